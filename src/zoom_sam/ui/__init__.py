"""zoom-sam's read-only views inside the Airflow UI: an Airflow plugin (``plugin.py``) mounting a
FastAPI app at ``/zoom-sam`` with a JSON API, CSV/Excel exports and server-rendered pages over the
profiles' warehouses. docs/ui.md describes what each view shows and who may see it."""
