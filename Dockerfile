# The Airflow image for docker-compose.yaml: the official base plus zoom-sam as an installed
# provider, so the `zoom` connection type, its form and its Test button exist on every component.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt /opt/zoom-sam/requirements.txt
RUN pip install --no-cache-dir -r /opt/zoom-sam/requirements.txt apache-airflow-providers-celery==3.26.0
COPY --chown=airflow:root pyproject.toml /opt/zoom-sam/pyproject.toml
COPY --chown=airflow:root src /opt/zoom-sam/src
# A regular (non-editable) install: the SQL and the default profiles travel as package data.
RUN pip install --no-cache-dir --no-deps /opt/zoom-sam
