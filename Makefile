# Shortcuts for tasks.py, which needs only Python (make is optional).
.PHONY: test lint
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
# Offline preview: `make plan` (every stack) or `make plan STACK=dev`; ARGS="--json plan.json" etc.
.PHONY: plan
plan:
	python3 tasks.py plan $(STACK) $(ARGS)
