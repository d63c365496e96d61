"""How long a profile's tasks may run: two bounds, because a DAG is parsed without the account.

* The **ceiling** (:mod:`.ceiling`) is each task's Airflow ``execution_timeout``. Airflow fixes it
  when the DAG file is parsed, and parsing touches neither the network nor a database, so it is
  a profile setting: ``timeouts.task_minutes``, per task ``timeouts.per_task``.
* The **deadline** (:mod:`.deadline`) is computed when a task opens its Zoom client, from what
  the warehouse knows of the account (:mod:`.size`) and the rate limits the client uses
  (:mod:`.estimate`). The client checks it before every request, so a task that runs far longer
  than its account explains stops and releases the account's rate limit, saying what it expected.

Nothing is imported here: the DAG factory imports :mod:`.ceiling` at parse time.
"""
