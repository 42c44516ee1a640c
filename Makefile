# hcr: the commands of the README.
#   make lab   create the environment if needed, then open the curriculum in JupyterLab
#   make web   build the drawing pad as a static web page and serve it on 127.0.0.1
#   make app   the drawing pad as a Voila page (a Python kernel per visitor) on 127.0.0.1
#   make test  create the environment if needed, then run every test (unit tests and all notebooks)

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# JupyterLab refuses to start as root (Docker's default user, many cloud VMs) unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
LAB_FLAGS ?=
# Two test processes; conftest.py groups the notebooks that share models so they run in order on one of them.
PARALLEL ?= -n 2 --dist loadgroup

.PHONY: env lab app test test-fast chromium benchmarks clean

$(STAMP): requirements.txt pyproject.toml jupyter/overrides.json
	@echo "Installing the course's Python environment into $(VENV): about 3 GB (TensorFlow alone is 1.9 GB);"
	@echo "a first install downloads about 800 MB (a few minutes on a fast connection). Later runs reuse it."
	python3 -m venv $(VENV) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv && python3 -m venv $(VENV); }
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	$(PY) scripts/install_lab_settings.py
	touch $(STAMP)

env: $(STAMP)

lab: env
	@[ -z "$(ROOT_FLAG)" ] || echo "Running as root (a container or a cloud VM?): JupyterLab starts with --allow-root."
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) $(LAB_FLAGS) notebooks/index.ipynb

# The drawing pad alone, as a web page (Voila runs notebooks/app.ipynb and shows only its outputs).
APP_PORT ?= 8866
app: env
	@echo "The drawing pad: open http://127.0.0.1:$(APP_PORT)/ in your browser (Ctrl+C stops it)"
	$(VENV)/bin/voila notebooks/app.ipynb --no-browser --port=$(APP_PORT) --Voila.ip=127.0.0.1 --show_tracebacks=False

# Debian's Chromium drives the browser end-to-end test of the drawing widget (never `playwright install`).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

test: env chromium node
	HCR_QUICK=1 $(VENV)/bin/pytest tests notebooks --nbval-lax -p no:cacheprovider $(PARALLEL)

test-fast: env
	HCR_QUICK=1 $(VENV)/bin/pytest tests -m "not browser and not slow" -p no:cacheprovider $(PARALLEL)

# Accuracy, time and latency targets on the development data (DEV_DATA holds mnist-dev/ and emnist-dev/).
DEV_DATA ?= ../shared/data
benchmarks: env
	$(PY) benchmarks/bench_training.py --data $(DEV_DATA) --out-dir outputs/bench_models
	$(PY) benchmarks/bench_inference.py --model outputs/bench_models/mnist_cnn.keras --data-dir $(DEV_DATA)/mnist-dev --n 1000
	$(PY) benchmarks/bench_inference.py --model outputs/bench_models/emnist_cnn.keras --data-dir $(DEV_DATA)/emnist-dev --n 2000
	$(PY) benchmarks/probe_canvas_cues.py --model outputs/bench_models/emnist_cnn.keras --data-dir $(DEV_DATA)/emnist-dev --n 100
	$(PY) benchmarks/bench_reject.py --model outputs/bench_models/emnist_cnn.keras --data-dir $(DEV_DATA)/emnist-dev --n 4000 --fake 400
	$(PY) benchmarks/bench_reject.py --model outputs/bench_models/mnist_cnn.keras --data-dir $(DEV_DATA)/mnist-dev --n 1000 --fake 400
	$(PY) benchmarks/bench_export.py --model outputs/bench_models/emnist_cnn.keras --data-dir $(DEV_DATA)/emnist-dev --n 2000
	$(PY) benchmarks/bench_words.py --data-dir $(DEV_DATA)/emnist-dev --model saved_models/emnist_words.keras --lines 5000 --repeats 500
	$(PY) benchmarks/bench_throughput.py --data $(DEV_DATA) --rounds 3
	$(PY) benchmarks/bench_mnist_cv.py --data $(DEV_DATA) --variant 'before={"images": 120000}' --variant 'final={}'

clean:
	rm -rf $(VENV) my_models/quick outputs/*.png

# The drawing pad as a static page (web/): LiteRT.js reads the exported models in the browser, no Python server.
#   make web-build  export the models and build web/build/ (any static host can serve that folder)
#   make web        build, then serve it on 127.0.0.1
WEB_PORT ?= 8000
.PHONY: node web-build web

node:
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }

web-build: env node
	$(PY) web/build.py --out web/build

web: web-build
	@echo "The drawing pad: open http://127.0.0.1:$(WEB_PORT)/ in your browser (Ctrl+C stops it)"
	$(PY) -m http.server $(WEB_PORT) --bind 127.0.0.1 --directory web/build
