"""validate_profile: the first task of every profile DAG (:mod:`zoom_sam.profile_check`)."""
from __future__ import annotations

from zoom_sam.operators.base import ProfileOperator


class ValidateProfileOperator(ProfileOperator):
    process = "zoom_sam.profile_check:run"

