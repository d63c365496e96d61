"""docker-compose.yaml's topology as local processes of the project's virtualenv, for ``make stack-test``.

No container engine runs on the development machines or in CI, so what the compose file deploys is
started here from processes instead: a metadata and a warehouse database on the local PostgreSQL,
a Redis database of its own as the Celery broker, and ``airflow api-server``, ``scheduler``,
``dag-processor``, ``triggerer`` and two ``celery worker`` processes, all on 127.0.0.1 and in a
throw-away AIRFLOW_HOME (:mod:`stack.topology`). Tests drive it through Airflow's REST API only
(:mod:`stack.rest`), as the UI would.
"""
