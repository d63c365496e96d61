"""Airflow DAG file of zoom-sam: one DAG ``zoom_sam__<alias>`` per integration profile.

The profiles are the YAML files of ``src/zoom_sam/include/profiles/`` (or ``$ZOOM_SAM_PROFILES_DIR``); how the
DAGs are built, and how an invalid profile is reported without hiding the others, is in
``zoom_sam.dag_factory``.
"""
from zoom_sam.dag_factory import register_dags

register_dags()
