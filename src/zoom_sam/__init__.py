"""zoom-sam: Software Asset Management for Zoom.

A plain library (no scheduler needed to import it) that the Airflow DAGs in ``dags/`` drive
through thin operators.
"""
