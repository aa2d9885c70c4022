# Shortcuts for tasks.py, which needs only Python (make is optional).
.PHONY: test lint
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
