# Shortcuts for tasks.py, which needs only Python (make is optional).
.PHONY: test lint policy plan docs pack-venv
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
# make policy STACK=dev (every stack without STACK)
policy:
	python3 tasks.py policy $(STACK)
# Offline preview: `make plan` (every stack) or `make plan STACK=dev`; ARGS="--json plan.json" etc.
plan:
	python3 tasks.py plan $(STACK) $(ARGS)
# The config reference and the stack file's JSON Schema, generated from the config models.
docs:
	python3 tasks.py docs
# The policy pack's own virtualenv (policies/venv), which `pulumi preview --policy-pack policies` needs.
pack-venv:
	python3 tasks.py pack-venv
