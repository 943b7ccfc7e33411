# The two commands: `make run` (sandbox + scheduler + console) and `make test` (every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test venv clean bench soak campaigns campaign-crash campaign-lost-response campaign-concurrency

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m launcher

test: $(STAMP) compat/js-sdk/node_modules
	$(PY) -m pytest $(PYTEST_ARGS)

# The official Intacct JS SDK the sandbox's compatibility test drives (skipped with a reason where node is absent).
compat/js-sdk/node_modules: compat/js-sdk/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix compat/js-sdk --no-audit --no-fund --loglevel=error; fi

bench: $(STAMP)
	$(PY) -m bench

# Campaigns: the real processes under kill -9, lost answers and concurrency, at full size; each prints its figures.
campaigns: campaign-crash campaign-lost-response campaign-concurrency

campaign-crash: $(STAMP)
	$(PY) -m campaigns.crash $(CAMPAIGN_ARGS)

campaign-lost-response: $(STAMP)
	$(PY) -m campaigns.lost_response $(CAMPAIGN_ARGS)

campaign-concurrency: $(STAMP)
	$(PY) -m campaigns.concurrency $(CAMPAIGN_ARGS)

# The sync model for SOAK_STEPS random steps on SQLite and on PostgreSQL; prints its figures (SOAK_SEED to replay).
SOAK_STEPS ?= 2000
soak: $(STAMP)
	$(PY) -m tests.engine.soak --steps $(SOAK_STEPS) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

clean:
	rm -rf $(VENV) .pytest_cache
