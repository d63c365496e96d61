"""Integration profiles: the YAML files that define one Zoom integration each, and their validation.

A profile is ``src/zoom_sam/include/profiles/<name>.yaml`` (folder overridable with ``ZOOM_SAM_PROFILES_DIR``)
and becomes the DAG ``zoom_sam__<alias>``. The typed model below is the single definition of
what a profile may contain; ``docs/profiles.md`` documents each field.

Validation is strict because a typo in a profile must not silently change what gets reclaimed:
unknown fields and keys given twice are rejected, booleans and numbers must be real YAML booleans
and numbers (``"yes"`` or ``"60"`` in quotes are refused), values must fit the warehouse columns
they land in (:mod:`zoom_sam.profile_limits`), and every error names the file, the field and what
would be valid. Nothing here depends on the wall clock: ``analyze_activity_from`` is checked
against the first run's as-of when a run starts (:func:`check_activity_start`), so a profile never
breaks merely by getting older.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from zoom_sam.licensing import builtin_model_for
from zoom_sam.profile_limits import (
    ALIAS_MAX,
    COST_TOTAL_MAX,
    CURRENCY_LENGTH,
    DISPLAY_NAME_MAX,
    IDENTIFIER_MAX,
    INT_MAX,
    MAX_DAYS,
    MODEL_KEY_MAX,
    RULE_PATTERN_MAX,
    UNIT_COST_DECIMALS,
    UNIT_COST_DIGITS,
    UNIT_COST_MAX,
    WAREHOUSE_CONN_ID_MAX,
    ZOOM_CONN_ID_MAX,
    exclusion_pattern_max,
)
from zoom_sam.errors import ConfigurationError
from zoom_sam.package_data import package_folder
from zoom_sam.timeouts.ceiling import DEFAULT_TASK_MINUTES, MAX_TASK_MINUTES, TASK_IDS
from zoom_sam.timeouts.deadline import DEFAULT_FACTOR, GRACE_S, MAX_FACTOR
from zoom_sam.vocabulary import Mode

DEFAULT_PROFILES_DIR = package_folder("profiles")
ALIAS_PATTERN = r"^[a-z0-9_]+$"
MODEL_KEY_PATTERN = r"^[a-z0-9_]+$"
USER_EXCLUSION_FIELDS = ("email", "user_id", "dept", "group_id", "role_id")
DAYS = f"a whole number of days from 1 to {MAX_DAYS:,}"


def _connection_id(value: str) -> str:
    if not value.strip():
        raise ValueError("is blank; name an Airflow connection")
    if value != "".join(value.split()):
        raise ValueError("contains spaces, which an Airflow connection id never has")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is blank")
    return value


def _whole_is_a_number(value: Any) -> Any:
    # YAML writes 0, 1 or 3 as ints; where a number is expected they are valid.
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


Number = Annotated[float, BeforeValidator(_whole_is_a_number)]
ConnectionId = Annotated[str, AfterValidator(_connection_id)]
NotBlank = Annotated[str, AfterValidator(_not_blank)]
ModelKey = Annotated[str, Field(pattern=MODEL_KEY_PATTERN, max_length=MODEL_KEY_MAX)]


def _pattern(field: str) -> Any:
    """An exclusion pattern on ``field``, at most what its warehouse columns hold."""
    limit = exclusion_pattern_max(field)
    return Field(None, min_length=1, max_length=limit, description=f"an fnmatch pattern, 1 to {limit} characters")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ReclaimSettings(_Strict):
    """How reclaim behaves when ``reclaim_subscriptions`` is true."""

    mode: Literal[tuple(m.value for m in Mode)] = Field(
        Mode.DRY_RUN.value, description="dry_run (record what would be done), approval (wait for a person), automatic"
    )
    max_per_run: int = Field(25, ge=0, le=INT_MAX,
                             description=f"a whole number from 0 to {INT_MAX:,}: most subscriptions reclaimed in one run")
    max_fraction: Number = Field(
        0.2, ge=0, le=1, description="a number from 0 to 1: most of a model's assigned seats reclaimed in one run"
    )


class ReclamationRule(_Strict):
    """After how many days without activity a subscription of matching models is a candidate."""

    software_model: NotBlank = Field(
        max_length=RULE_PATTERN_MAX,
        description=f"an fnmatch pattern on software model keys, 1 to {RULE_PATTERN_MAX} characters")
    last_activity_threshold_days: int = Field(ge=1, le=MAX_DAYS, description=DAYS)
    disassociate_pending_invitations: bool = Field(
        False, description="true or false: whether stale pending invitations holding a seat are removed"
    )


class UserExclusion(_Strict):
    """One user rule: exactly one of the fields, an fnmatch pattern (``svc-*@example.com``)."""

    email: str | None = _pattern("email")
    user_id: str | None = _pattern("user_id")
    dept: str | None = _pattern("dept")
    group_id: str | None = _pattern("group_id")
    role_id: str | None = _pattern("role_id")

    @model_validator(mode="after")
    def _exactly_one(self) -> UserExclusion:
        given = [f for f in USER_EXCLUSION_FIELDS if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a user exclusion has exactly one of {', '.join(USER_EXCLUSION_FIELDS)} "
                f"(got {', '.join(given) or 'none'}); write one list item per rule"
            )
        return self

    @property
    def field(self) -> str:
        return next(f for f in USER_EXCLUSION_FIELDS if getattr(self, f) is not None)

    @property
    def pattern(self) -> str:
        return getattr(self, self.field)


class Exclusions(_Strict):
    users: list[UserExclusion] = Field(
        default_factory=list,
        description="a list of rules, each one of email, user_id, dept, group_id or role_id with an fnmatch pattern",
    )
    identifiers: list[Annotated[str, Field(min_length=1, max_length=exclusion_pattern_max("identifier"))]] = Field(
        default_factory=list,
        description="fnmatch patterns on subscription identifiers (e.g. 'webinar:*'), "
        f"1 to {exclusion_pattern_max('identifier')} characters each",
    )


class Entitlement(_Strict):
    """What the account owns of one software model."""

    software_model: ModelKey = Field(description=f"a software model key, [a-z0-9_]+, at most {MODEL_KEY_MAX} characters")
    purchased: int = Field(ge=0, le=INT_MAX, description=f"a whole number of seats from 0 to {INT_MAX:,}")
    unit_cost: Annotated[Decimal, Field(strict=False, allow_inf_nan=False, ge=0, max_digits=UNIT_COST_DIGITS,
                                        decimal_places=UNIT_COST_DECIMALS)] = Field(
        Decimal(0), description=f"cost per seat per year, a number from 0 to {UNIT_COST_MAX:,} with at most "
        f"{UNIT_COST_DECIMALS} decimals"
    )
    currency: str = Field("USD", pattern=rf"^[A-Z]{{{CURRENCY_LENGTH}}}$",
                          description="an ISO 4217 currency code such as USD")

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        from babel.numbers import list_currencies

        if value not in list_currencies():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @model_validator(mode="after")
    def _cost_fits(self) -> Entitlement:
        total = self.purchased * self.unit_cost
        if total > COST_TOTAL_MAX:
            raise ValueError(
                f"purchased x unit_cost is {total:,}, more than the {COST_TOTAL_MAX:,} the license position's cost "
                "columns hold; check both values"
            )
        return self


TaskMinutes = Annotated[int, Field(ge=1, le=MAX_TASK_MINUTES)]
TASK_MINUTES = f"a whole number of minutes from 1 to {MAX_TASK_MINUTES:,}"


class Timeouts(_Strict):
    """How long the profile's tasks may run (README "Timeouts")."""

    task_minutes: TaskMinutes = Field(
        DEFAULT_TASK_MINUTES, description=f"{TASK_MINUTES}: every task's Airflow execution_timeout")
    per_task: dict[Literal[TASK_IDS], TaskMinutes] = Field(
        default_factory=dict, description=f"task id ({', '.join(TASK_IDS)}) -> {TASK_MINUTES}")
    deadline_factor: Number = Field(
        DEFAULT_FACTOR, ge=1, le=MAX_FACTOR,
        description=f"a number from 1 to {MAX_FACTOR:g}: the run-time deadline is this many times the duration "
        f"the account's size explains, plus {GRACE_S / 60:g} minutes")


class NotifyEvent(StrEnum):
    """What a profile's notification targets can be told (``notifications``, docs/profiles.md)."""

    APPROVAL_WAITING = "approval_waiting"
    RECLAIM_DONE = "reclaim_done"
    PROCESS_FAILED = "process_failed"
    UNRECOGNIZED_IDENTIFIERS = "unrecognized_identifiers"
    GUARD_STOPPED = "guard_stopped"


NOTIFY_EVENTS = (
    "approval_waiting (a reclaim waits for Approve), reclaim_done (a reclaim ran: outcome and realised savings), "
    "process_failed (a task failed for good), unrecognized_identifiers (paid identifiers without a software model "
    "appeared), guard_stopped (a blast-radius guard stopped a reclaim)"
)
# Airflow's own limit on a connection id (the ``connection.conn_id`` column).
AIRFLOW_CONN_ID_MAX = 250
# A plain mailbox, local@domain.tld: no display name, no comments, no quoted local part. A typo
# here would send the SAM team's alerts nowhere, silently, so anything unusual is refused.
EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def _email_address(value: str) -> str:
    if len(value) > 254 or not EMAIL_PATTERN.fullmatch(value):
        raise ValueError("is not a plain e-mail address (name@example.com, without a display name)")
    return value


def _listed_once(values: list[Any]) -> list[Any]:
    twice = sorted({str(v) for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} listed twice; list each once")
    return values


EmailAddress = Annotated[str, AfterValidator(_email_address)]
NotifyEvents = Annotated[list[Literal[tuple(e.value for e in NotifyEvent)]], AfterValidator(_listed_once)]


class _NotifyTarget(_Strict):
    events: NotifyEvents = Field(
        default_factory=lambda: [e.value for e in NotifyEvent], min_length=1,
        description=f"a list of events, each once (omitted: all of them): {NOTIFY_EVENTS}")

    def wants(self, event: NotifyEvent) -> bool:
        return event.value in self.events


class WebhookTarget(_NotifyTarget):
    """An HTTP endpoint (a Slack or Teams incoming webhook, or any JSON receiver) told by POST."""

    conn_id: ConnectionId = Field(
        max_length=AIRFLOW_CONN_ID_MAX,
        description="an Airflow connection id (conn_type http) whose host is the webhook URL, no spaces")


class EmailTarget(_NotifyTarget):
    """Mailboxes told through an SMTP server."""

    conn_id: ConnectionId = Field(
        max_length=AIRFLOW_CONN_ID_MAX,
        description="an Airflow connection id (conn_type smtp; its extra from_email is the sender), no spaces")
    to: Annotated[list[EmailAddress], AfterValidator(_listed_once)] = Field(
        min_length=1, description="a list of e-mail addresses (name@example.com), each once")


class Notifications(_Strict):
    """Who is told about a profile's runs, and about what (docs/profiles.md, "Notifications")."""

    webhooks: list[WebhookTarget] = Field(
        default_factory=list, description="a list of targets, each conn_id and optionally events")
    email: list[EmailTarget] = Field(
        default_factory=list, description="a list of targets, each conn_id, to and optionally events")
    timeout_seconds: int = Field(
        15, ge=1, le=120,
        description="a whole number of seconds from 1 to 120: the longest a task waits for its notifications")

    def targets(self) -> list[WebhookTarget | EmailTarget]:
        return [*self.webhooks, *self.email]


class Profile(_Strict):
    """One integration profile (see docs/profiles.md)."""

    alias: str = Field(
        pattern=ALIAS_PATTERN,
        max_length=ALIAS_MAX,
        description=f"lower-case letters, digits and underscores (at most {ALIAS_MAX}); the DAG id is zoom_sam__<alias>",
    )
    display_name: NotBlank = Field("Zoom Integration", max_length=DISPLAY_NAME_MAX,
                                   description=f"1 to {DISPLAY_NAME_MAX} characters")
    zoom_conn_id: ConnectionId = Field(
        max_length=ZOOM_CONN_ID_MAX,
        description=f"the Airflow connection id of the Zoom app (conn_type zoom): 1 to {ZOOM_CONN_ID_MAX} "
        "characters, no spaces",
    )
    warehouse_conn_id: ConnectionId = Field(
        "zoom_sam_warehouse", max_length=WAREHOUSE_CONN_ID_MAX,
        description=f"an Airflow connection id (absent means embedded SQLite): 1 to {WAREHOUSE_CONN_ID_MAX} "
        "characters, no spaces",
    )
    pool: NotBlank | None = Field(None, description="an Airflow pool name, or null")
    analyze_activity_from: Annotated[date, Field(strict=False)] | None = Field(
        None, description="a date YYYY-MM-DD, or omitted"
    )
    max_lookback_days: int = Field(30, ge=1, le=MAX_DAYS, description=DAYS)
    download_activity: bool = Field(True, description="true or false: whether activity is pulled (pull_activity)")
    activity_source: Literal["per_user", "host_report"] = Field(
        "per_user",
        description="per_user (each holder's meetings and webinars; the default scopes) or host_report (the "
        "active-hosts report, day precision; needs report:read:list_users:admin)",
    )
    activity_retention_days: int = Field(365, ge=1, le=MAX_DAYS, description=f"{DAYS}: how long hosted events are kept")
    activity_shards: int = Field(
        1, ge=1, le=64, description="a whole number from 1 to 64: parallel sweep tasks sharing the account's rate limit"
    )
    reclaim_subscriptions: bool = Field(False, description="true or false: whether candidates are reclaimed")
    reclaim: ReclaimSettings = Field(default_factory=ReclaimSettings)
    rules: list[ReclamationRule] = Field(default_factory=list)
    exclusions: Exclusions = Field(default_factory=Exclusions)
    entitlements: list[Entitlement] = Field(default_factory=list)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    notifications: Notifications = Field(default_factory=Notifications)
    identifier_models: dict[Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX)], ModelKey] = Field(
        default_factory=dict,
        description=f"identifier (at most {IDENTIFIER_MAX} characters) -> software model key ([a-z0-9_]+, at most "
        f"{MODEL_KEY_MAX} characters)",
    )

    @field_validator("analyze_activity_from", mode="before")
    @classmethod
    def _date_not_datetime(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
        return value

    @model_validator(mode="after")
    def _host_report_is_one_sweep(self) -> Profile:
        if self.activity_source == "host_report" and self.activity_shards != 1:
            raise ValueError(
                "activity_source host_report reads one account-wide report per day, which shards cannot split: "
                "set activity_shards to 1 (or use activity_source per_user)"
            )
        return self

    @field_validator("entitlements")
    @classmethod
    def _one_entitlement_per_model(cls, value: list[Entitlement]) -> list[Entitlement]:
        seen: set[str] = set()
        for item in value:
            if item.software_model in seen:
                raise ValueError(
                    f"software model {item.software_model!r} is listed twice; give one entry per model"
                )
            seen.add(item.software_model)
        return value

    @field_validator("identifier_models")
    @classmethod
    def _only_unrecognized_identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        for identifier in value:
            builtin = builtin_model_for(identifier)
            if builtin is not None:
                raise ValueError(
                    f"{identifier!r} is already modelled as {builtin.key!r}; map only identifiers that land in "
                    "unrecognized_subscription_identifier"
                )
        return value

    @property
    def dag_id(self) -> str:
        return f"zoom_sam__{self.alias}"

    def settings(self) -> dict[str, Any]:
        """The profile as JSON-ready data (it holds connection ids, never secrets)."""
        return self.model_dump(mode="json")


class ActivityStartError(ConfigurationError):
    """``analyze_activity_from`` lies outside what the first run may analyse."""


class ProfileError(ConfigurationError):
    """A profile file that cannot be used; the text names the file, the field and the fix."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"integration profile {self.path} is invalid:\n{lines}")


@dataclass(frozen=True)
class LoadedProfile:
    path: Path
    profile: Profile


@dataclass(frozen=True)
class ProfileSet:
    """Every profile file of a folder: the valid ones and one error per invalid file."""

    profiles: tuple[LoadedProfile, ...]
    errors: tuple[ProfileError, ...]


def profiles_dir() -> Path:
    return Path(os.environ.get("ZOOM_SAM_PROFILES_DIR") or DEFAULT_PROFILES_DIR)


def profile_files(folder: Path | None = None) -> list[Path]:
    folder = folder or profiles_dir()
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_profile(path: Path | str) -> Profile:
    """Read and validate one profile file; raises :class:`ProfileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(path, [f"is not valid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise ProfileError(
            path, [f"must be a YAML mapping of profile fields (alias: ..., zoom_conn_id: ...), not {_kind(data)}"]
        )
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(path, [_describe(err) for err in exc.errors()]) from None


def load_profiles(folder: Path | None = None) -> ProfileSet:
    """Every profile of ``folder``; a bad file becomes an error without hiding the others.

    Aliases must be unique: the first file (by name) keeps its alias and every later file using
    it is an error, so adding a copy never takes the running DAG away.
    """
    loaded: list[LoadedProfile] = []
    errors: list[ProfileError] = []
    owners: dict[str, Path] = {}
    for path in profile_files(folder):
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            errors.append(exc)
            continue
        if profile.alias in owners:
            errors.append(
                ProfileError(
                    path,
                    [
                        f"field 'alias': {profile.alias!r} is already the alias of {owners[profile.alias].name}; "
                        "every profile needs its own alias (lower-case letters, digits, underscores)"
                    ],
                )
            )
            continue
        owners[profile.alias] = path
        loaded.append(LoadedProfile(path, profile))
    return ProfileSet(tuple(loaded), tuple(errors))


def activity_start(profile: Profile, first_as_of: datetime) -> datetime:
    """Where the analysed activity history starts: the profile's date, or as-of minus lookback."""
    if profile.analyze_activity_from is not None:
        return datetime.combine(profile.analyze_activity_from, time(), tzinfo=timezone.utc)
    return first_as_of - timedelta(days=profile.max_lookback_days)


def check_activity_start(profile: Profile, first_as_of: datetime) -> None:
    """Refuse an ``analyze_activity_from`` too far before (or after) the first run's as-of.

    Called when a run starts and the warehouse holds no activity history yet: that is when the
    onboarding backfill is decided, and Zoom's history is only reachable so far back.
    """
    start = profile.analyze_activity_from
    if start is None:
        return
    earliest = (first_as_of - timedelta(days=profile.max_lookback_days)).date()
    if start < earliest or start > first_as_of.date():
        raise ActivityStartError(
            f"profile {profile.alias!r}: field 'analyze_activity_from' is {start.isoformat()}, but the first run's "
            f"as-of is {first_as_of.isoformat()} and max_lookback_days is {profile.max_lookback_days}: use a date "
            f"from {earliest.isoformat()} to {first_as_of.date().isoformat()}, or omit it to start "
            f"{profile.max_lookback_days} days before the first run"
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping.

    Plain YAML loading keeps the last of two equal keys without a word, so a second ``reclaim:``
    further down a file would silently replace the first.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in first
                except TypeError:
                    continue  # an unhashable key: the base constructor reports it
                if repeated:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"key {key!r} is given twice in the same mapping (first at line {first[key] + 1}); "
                        "YAML would keep only the last one: remove or merge one of them",
                        key_node.start_mark,
                    )
                first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _describe(err: dict[str, Any]) -> str:
    loc = _loc(err["loc"])
    kind = err["type"]
    given = err.get("input")
    if kind == "missing":
        hint = _field_hint(err["loc"])
        return f"field '{loc}' is required" + (f": {hint}" if hint else "")
    if kind == "extra_forbidden":
        allowed = _fields_at(err["loc"][:-1])
        return f"field '{loc}' is not a profile field; valid fields here: {', '.join(allowed)}"
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    hint = _field_hint(err["loc"])
    text = f"field '{loc}': {message} (got {_shown(given)})"
    return text + (f"; valid: {hint}" if hint and hint not in text else "")


def _loc(parts: tuple[Any, ...]) -> str:
    out = ""
    model: type[BaseModel] | None = Profile
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "function-wrap") or str(part).startswith(
            ("constrained-", "function-")
        ):
            continue
        elif part == "[key]":
            out += " (the key)"
        elif model is None:  # a mapping key, e.g. of identifier_models
            out += f"[{part!r}]"
        else:
            out += ("." if out else "") + str(part)
            info = model.model_fields.get(str(part))
            model = _inner_model(info.annotation) if info else None
    return out or "(top level)"


def _walk(parts: tuple[Any, ...]) -> tuple[type[BaseModel] | None, Any]:
    """The model holding the field at ``parts`` and that field's info (None when unknown)."""
    model: type[BaseModel] | None = Profile
    info = None
    for part in parts:
        if isinstance(part, int) or model is None:
            continue
        found = model.model_fields.get(str(part))
        if found is None:  # a mapping key such as an identifier_models entry: keep the mapping's info
            break
        info = found
        model = _inner_model(info.annotation)
    return model, info


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) else ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _fields_at(parts: tuple[Any, ...]) -> list[str]:
    model = Profile
    for part in parts:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        inner = _inner_model(info.annotation) if info else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _field_hint(parts: tuple[Any, ...]) -> str | None:
    _, info = _walk(tuple(p for p in parts if not isinstance(p, int)))
    return info.description if info is not None else None


def _shown(value: Any, limit: int = 60) -> str:
    """The offending value as the message quotes it: a long string is cut, with its length."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    return repr(value)


def _kind(value: Any) -> str:
    return "an empty file" if value is None else f"a {type(value).__name__}"

