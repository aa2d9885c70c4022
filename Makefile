# Shortcuts for tasks.py, which needs only Python (make is optional).
.PHONY: test lint policy
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
# make policy STACK=dev (every stack without STACK)
policy:
	python3 tasks.py policy $(STACK)
