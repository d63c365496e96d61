# The images of docker-compose.yaml, all on the official Airflow base:
#   runtime  (the default target) every Airflow component: zoom-sam installed as a regular
#            (non-editable) wheel on top of the runtime pins, so the `zoom` connection type, its form,
#            its Test button and the views exist on every component; no test tool, no dev/ code
#   sandbox  the local Zoom API server of the demo (compose profile `sandbox`), with the demo
#            profile and the DAG file that registers it
# Reproducible: the base is pinned by tag, every Python package by requirements.txt, and the wheel is
# built with the setuptools pinned in requirements-dev.txt, without build isolation (no unpinned
# download at build time).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11

FROM ${AIRFLOW_IMAGE} AS wheel
COPY --chown=airflow:root requirements-dev.txt /opt/zoom-sam/requirements-dev.txt
RUN grep '^setuptools==' /opt/zoom-sam/requirements-dev.txt > /tmp/setuptools.txt \
 && pip install --no-cache-dir -r /tmp/setuptools.txt
COPY --chown=airflow:root pyproject.toml /opt/zoom-sam/pyproject.toml
COPY --chown=airflow:root src /opt/zoom-sam/src
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /opt/zoom-sam/dist /opt/zoom-sam

FROM ${AIRFLOW_IMAGE} AS sandbox
# The sandbox is the standard library only; PYTHONPATH, not an install, because dev/ is never a package.
COPY --chown=airflow:root dev/zoom_sandbox /opt/zoom-sam-dev/zoom_sandbox
COPY --chown=airflow:root src/zoom_sam/include/profiles/demo.yaml /opt/zoom-sam-demo/profiles/demo.yaml
COPY --chown=airflow:root deploy/sandbox/dags /opt/zoom-sam-demo/dags
ENV PYTHONPATH=/opt/zoom-sam-dev
ENTRYPOINT []
CMD ["python", "-m", "zoom_sandbox", "--host", "0.0.0.0", "--port", "8765"]

FROM ${AIRFLOW_IMAGE} AS runtime
COPY --chown=airflow:root requirements.txt /opt/zoom-sam/requirements.txt
RUN pip install --no-cache-dir -r /opt/zoom-sam/requirements.txt
COPY --from=wheel /opt/zoom-sam/dist /opt/zoom-sam/dist
RUN pip install --no-cache-dir --no-deps /opt/zoom-sam/dist/zoom_sam-*.whl
COPY --chown=airflow:root dags /opt/airflow/dags
