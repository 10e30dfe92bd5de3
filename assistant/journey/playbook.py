"""The journey playbook: stages, personas, their cues, and the action catalogue, as YAML.

The package ships ``default_playbook.yaml`` (the defaults of ``domain.md``). A company
overrides it with its own file; one that starts with ``extends: default`` writes only what
differs (see ``overlay``). The file is validated with pydantic and by cross-checks (unknown
or duplicate ids, bad weights, patterns that cannot match); every mistake names its file and
line.

Cue maps are ``pattern: weight`` (or ``pattern: {weight, negatable, positive}``); a pattern
is a word or phrase (``was kostet``), ``word*`` for "starts with" (German inflection:
``angebot*``), ``*word`` for "ends with" (the head of a German compound: ``*kosten`` in
``Lizenzkosten``), or ``re:`` and a regular expression over the folded text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from assistant.journey.overlay import LocationIndex, location_of, locations, overlay
from assistant.journey.text import PatternError, normalize, parse_pattern
from knowledge.yaml_lines import YamlSourceError, load_yaml_with_lines

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent / "default_playbook.yaml"
LANGUAGES = ("de", "en")
MIN_WEIGHT, MAX_WEIGHT = -5.0, 10.0


class PlaybookError(ValueError):
    """The playbook cannot be used; the message names the file and line of each mistake."""


def _weight(value: float) -> float:
    if not math.isfinite(value) or value == 0 or not MIN_WEIGHT <= value <= MAX_WEIGHT:
        raise ValueError(f"a weight is a number from {MIN_WEIGHT:g} to {MAX_WEIGHT:g} other than 0, not {value!r}")
    return float(value)


Weight = Annotated[float, AfterValidator(_weight)]
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="lower-case letters, digits and _")]
Probability = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CueSpec(_Strict):
    weight: Weight
    negatable: bool = Field(default=True, description="A negation just before the cue (no, nicht, kein) cancels it.")
    positive: bool = Field(default=False, description="Praise: cancelled in a message with a sarcasm marker.")


CueMap = dict[str, Weight | CueSpec]


class LanguageCues(_Strict):
    de: CueMap = {}
    en: CueMap = {}

    def items(self) -> Iterator[tuple[str, str, CueSpec]]:
        """(language, pattern, spec) of every cue."""
        for language in LANGUAGES:
            for pattern, value in getattr(self, language).items():
                yield language, pattern, value if isinstance(value, CueSpec) else CueSpec(weight=value)


class Localized(_Strict):
    de: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class HistoryCues(_Strict):
    """Cues in a person's history: touchpoint types, channels, kinds (owned/paid/earned) and
    words in a touchpoint's title, detail or URL."""

    types: dict[str, Weight] = {}
    channels: dict[str, Weight] = {}
    kinds: dict[str, Weight] = {}
    text: LanguageCues = LanguageCues()


class Exemplars(_Strict):
    de: list[str] = []
    en: list[str] = []


class StageDef(_Strict):
    id: Id
    name: Localized
    description: Localized
    cues: LanguageCues = LanguageCues()
    history: HistoryCues = HistoryCues()
    exemplars: Exemplars = Exemplars()


class PersonaDef(_Strict):
    id: Id
    name: Localized
    description: Localized
    advice: Localized
    cues: LanguageCues = LanguageCues()
    titles: LanguageCues = LanguageCues()
    departments: LanguageCues = LanguageCues()
    buying_roles: dict[str, Weight] = {}
    content: HistoryCues = HistoryCues()
    exemplars: Exemplars = Exemplars()


class StageMapping(_Strict):
    stage: Id
    weight: Weight = 1.5
    also: dict[Id, Weight] = Field(default={}, description="Other stages it speaks for (a customer may be an advocate).")


class Eligibility(_Strict):
    consent: Id | None = Field(default=None, description="Consent purpose the person must have granted.")
    cooldown_days: Annotated[int, Field(ge=0)] = 14
    requires_open_deal: bool = False
    requires_customer: bool = False
    excludes_customer: bool = False
    not_after: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default={}, description="Touchpoint or event type → days: not proposed within that many days after one.")


class ActionDef(_Strict):
    id: Id
    title: Localized
    description: Localized | None = None
    channel: Id
    stages: Annotated[list[Id], Field(min_length=1)]
    personas: list[Id] = Field(default=[], description="Empty: fits every persona.")
    eligibility: Eligibility = Eligibility()
    value: Annotated[float, Field(ge=0)] = 1.0
    content: str | Localized | None = None
    seen_in: HistoryCues = Field(
        default=HistoryCues(),
        description="Touchpoints that show the action was done (a case study e-mailed, a demo held): they start "
        "its cooldown and are what the propensity is learned from.")


class Learning(_Strict):
    """How next-best-action propensities are learned from history and outcomes."""

    horizon_days: Annotated[int, Field(ge=1)] = 90
    advance_window_days: Annotated[int, Field(ge=1)] = 30
    prior_mean: Probability = 0.2
    prior_strength: Positive = 2.0
    strength: Positive = 5.0
    empirical_bayes: bool = Field(
        default=True,
        description="Fit each level's prior strength (and a new action's prior mean) from the counts; "
                    "prior_mean, prior_strength and strength remain where too few cells exist to fit.")
    history_weight: Annotated[float, Field(ge=0)] = 1.0
    outcome_weight: Annotated[float, Field(ge=0)] = 2.0
    rewards: dict[Literal["accepted", "dismissed", "converted"], Annotated[float, Field(ge=0, le=1)]] = {
        "accepted": 0.5, "dismissed": 0.0, "converted": 1.0}
    visitor_types: list[str] = Field(
        default=["page_view", "page", "screen", "download", "form", "chat", "survey", "event", "track", "identify",
                 "review", "community"],
        description="Touchpoint types the person does on their own: their text never shows that an action was done.")
    generic_persona_fit: Probability = 0.7
    persona_fit_floor: Annotated[float, Field(ge=0, le=1)] = 0.4


class StageScoring(_Strict):
    first_stage: Id = Field(default="awareness", description="Where a person new to the company is.")
    evaluation_stage: Id = Field(default="consideration", description="Where a customer evaluating something new is.")
    customer_stages: list[Id] = Field(default=["retention", "advocacy"], description="Stages of people who are customers.")
    message_decay: Probability = 0.45
    max_messages: Annotated[int, Field(ge=1)] = 12
    message_cap: Positive = 5.0
    frames_override_from: Positive | None = Field(
        default=3.0, description="A regex cue (a frame) at least this strong mutes the other labels' word cues inside "
                                 "its hit: the frame is what the clause says (null: off).")
    message_rest_share: Probability = Field(
        default=0.7, description="Per stage and message, the strongest cue counts fully and every other one this "
                                 "share: one decisive cue is not outweighed by several topical ones (1: plain sum).")
    reply_context_factor: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.6, description="A short reply without cues of its own to an assistant turn agrees to it: the "
                                 "turn's cues count this much (0: off).")
    reply_max_words: Annotated[int, Field(ge=1)] = 4
    history_half_life_days: Positive = 21.0
    history_cap: Positive = 3.0
    history_weight: Positive = 0.8
    history_yield: Positive = 3.0
    history_rest_share: Probability = 0.25
    history_text_factor: Probability = 0.6
    max_touchpoints: Annotated[int, Field(ge=1)] = 300
    other_line_factor: Probability = 0.35
    new_line_weight: Positive = 1.5
    known_person_awareness_factor: Probability = 0.5
    known_evidence: Positive = 0.5
    prior: dict[Id, Positive] = {"awareness": 0.3}
    unplaced_prior: dict[Id, Positive] = {"consideration": 0.5}
    unplaced_below: Positive = 1.0
    temperature: Positive = 1.0
    evidence_scale: Positive = 2.0
    strong_evidence: Positive = 1.5
    override_share: Probability = 0.7
    semantic_weight: Annotated[float, Field(ge=0)] = 1.5
    semantic_floor: Annotated[float, Field(lt=0)] = -2.0
    semantic_full_words: Annotated[int, Field(ge=1)] = 4
    semantic_max_chars: Annotated[int, Field(ge=20)] = 80
    semantic_skip_score: Positive | None = 3.0
    semantic_skip_margin: Annotated[float, Field(ge=0)] = 2.0


class PersonaScoring(_Strict):
    message_decay: Probability = 0.85
    max_messages: Annotated[int, Field(ge=1)] = 20
    message_cap: Positive = 5.0
    per_message_cap: Positive = 4.0
    frames_override_from: Positive | None = Field(
        default=3.0, description="A regex cue (a frame) at least this strong mutes the other labels' word cues inside "
                                 "its hit: the frame is what the clause says (null: off).")
    title_cap: Positive = 3.5
    department_factor: Positive = 0.8
    buying_role_factor: Positive = 1.0
    self_description_factor: Positive = 1.0
    content_half_life_days: Positive = 180.0
    content_cap: Positive = 2.0
    min_signal: Positive = 1.2
    semantic_weight: Annotated[float, Field(ge=0)] = 3.0
    semantic_min: Probability = 0.4
    semantic_skip_score: Positive | None = 3.0
    semantic_skip_margin: Annotated[float, Field(ge=0)] = 2.0
    secondary_min: Probability = 0.2
    temperature: Positive = 1.0
    evidence_scale: Positive = 2.0


class Scoring(_Strict):
    stage: StageScoring = StageScoring()
    persona: PersonaScoring = PersonaScoring()


class WordLists(_Strict):
    de: list[str] = []
    en: list[str] = []

    def all(self) -> list[str]:
        return [*self.de, *self.en]


class Playbook(_Strict):
    version: Literal[1] = 1
    extends: str | None = None
    scoring: Scoring = Scoring()
    negation: WordLists = WordLists()
    sarcasm: LanguageCues = LanguageCues()
    fuzzy_exclude: list[str] = []
    small_talk: Exemplars = Exemplars()
    stages: Annotated[list[StageDef], Field(min_length=1)]
    personas: Annotated[list[PersonaDef], Field(min_length=1)]
    deal_stages: dict[str, StageMapping] = {}
    customer_statuses: dict[str, StageMapping] = {}
    consent_purposes: list[Id] = []
    channels: list[Id] = []
    actions: list[ActionDef] = []
    levers: dict[Id, Positive] = Field(
        default={}, description="Business levers: an action id or a channel → a multiplier of its score (campaign "
        "priorities, capacity); 1 when not listed.")
    learning: Learning = Learning()

    @property
    def stage_ids(self) -> list[str]:
        return [stage.id for stage in self.stages]

    @property
    def persona_ids(self) -> list[str]:
        return [persona.id for persona in self.personas]

    def action(self, action_id: str) -> ActionDef:
        for action in self.actions:
            if action.id == action_id:
                return action
        raise KeyError(f"no action {action_id!r} in the playbook; known: {', '.join(a.id for a in self.actions)}")


class _Errors:
    def __init__(self, where: LocationIndex) -> None:
        self.where = where
        self.messages: list[str] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        found = location_of(self.where, path)
        place = f"{found[0]} line {found[1]}" if found else "playbook"
        label = ".".join(str(part) for part in path) or "top level"
        self.messages.append(f"{place}: {label}: {message}")

    def raise_any(self) -> None:
        if self.messages:
            more = len(self.messages) - 5
            raise PlaybookError("; ".join(self.messages[:5]) + (f" (and {more} more)" if more > 0 else ""))


def _check_unique(errors: _Errors, items: list[Any], section: str) -> set[str]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            errors.add((section, index, "id"), f"duplicate id {item.id!r}")
        seen.add(item.id)
    return seen


def _check_cues(errors: _Errors, cues: LanguageCues, path: tuple[str | int, ...]) -> None:
    for language in LANGUAGES:
        seen: dict[str, str] = {}
        for pattern in getattr(cues, language):
            try:
                key = parse_pattern(pattern).text
            except PatternError as exc:
                errors.add((*path, language, pattern), str(exc))
                continue
            if key in seen:
                errors.add((*path, language, pattern), f"the same cue as {seen[key]!r}")
            seen[key] = pattern


def _check_known(errors: _Errors, value: str, known: set[str], path: tuple[str | int, ...], what: str) -> None:
    if value not in known:
        errors.add(path, f"unknown {what} {value!r}; known: {', '.join(sorted(known)) or 'none'}")


def _cross_check(book: Playbook, where: LocationIndex) -> None:
    errors = _Errors(where)
    stages = _check_unique(errors, book.stages, "stages")
    personas = _check_unique(errors, book.personas, "personas")
    _check_unique(errors, book.actions, "actions")
    for index, stage in enumerate(book.stages):
        _check_cues(errors, stage.cues, ("stages", index, "cues"))
        _check_cues(errors, stage.history.text, ("stages", index, "history", "text"))
    for index, persona in enumerate(book.personas):
        for part in ("cues", "titles", "departments"):
            _check_cues(errors, getattr(persona, part), ("personas", index, part))
        _check_cues(errors, persona.content.text, ("personas", index, "content", "text"))
    _check_cues(errors, book.sarcasm, ("sarcasm",))
    for section in ("deal_stages", "customer_statuses"):
        for name, mapping in getattr(book, section).items():
            _check_known(errors, mapping.stage, stages, (section, name, "stage"), "stage")
            for other in mapping.also:
                _check_known(errors, other, stages, (section, name, "also", other), "stage")
    scoring = book.scoring.stage
    for name, path in ((scoring.first_stage, ("first_stage",)), (scoring.evaluation_stage, ("evaluation_stage",)),
                       *((s, ("customer_stages", i)) for i, s in enumerate(scoring.customer_stages))):
        if ("scoring", "stage", *path) in where:
            _check_known(errors, name, stages, ("scoring", "stage", *path), "stage")
    for section in ("prior", "unplaced_prior"):
        for name in getattr(book.scoring.stage, section):
            if ("scoring", "stage", section, name) in where:  # the built-in defaults name the default stages
                _check_known(errors, name, stages, ("scoring", "stage", section, name), "stage")
    for index, action in enumerate(book.actions):
        for position, stage in enumerate(action.stages):
            _check_known(errors, stage, stages, ("actions", index, "stages", position), "stage")
        for position, persona in enumerate(action.personas):
            _check_known(errors, persona, personas, ("actions", index, "personas", position), "persona")
        _check_known(errors, action.channel, set(book.channels), ("actions", index, "channel"), "channel")
        _check_cues(errors, action.seen_in.text, ("actions", index, "seen_in", "text"))
        if action.eligibility.consent is not None:
            _check_known(errors, action.eligibility.consent, set(book.consent_purposes),
                         ("actions", index, "eligibility", "consent"), "consent purpose")
    known_levers = {action.id for action in book.actions} | set(book.channels)
    for name in book.levers:
        _check_known(errors, name, known_levers, ("levers", name), "action or channel")
    errors.raise_any()


def _validate(data: Any, where: LocationIndex, origin: str) -> Playbook:
    if not isinstance(data, dict):
        raise PlaybookError(f"{origin}: a playbook is a YAML mapping with stages:, personas: and actions:")
    try:
        book = Playbook.model_validate(data)
    except ValidationError as exc:
        errors = _Errors(where)
        reported: set[tuple[str | int, ...]] = set()
        for item in exc.errors():
            path = tuple(part for part in item["loc"] if isinstance(part, (str, int)))
            message = item["msg"].removeprefix("Value error, ")
            # A cue value is "weight or {weight, ...}": pydantic reports both branches; say it once.
            if path and (path[-1] == "CueSpec" or str(path[-1]).startswith("function-after")):
                path = path[:-1]
                if "weight is a number" not in message:
                    message = "a cue's value is a weight (a number from -5 to 10 other than 0) or {weight, negatable, positive}"
            if path not in reported:
                reported.add(path)
                errors.add(path, message)
        errors.raise_any()
        raise
    _cross_check(book, where)
    return book


def _read(path: Path) -> tuple[Any, LocationIndex, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(f"cannot read playbook {path}: {exc.strerror or exc}") from None
    try:
        data, lines = load_yaml_with_lines(text, path.name)
    except YamlSourceError as exc:
        raise PlaybookError(str(exc)) from None
    return data, locations(lines, path.name), lines


def parse_playbook(text: str, origin: str = "playbook.yaml") -> Playbook:
    """Validate a playbook given as text (``extends: default`` merges it over the default)."""
    try:
        data, lines = load_yaml_with_lines(text, origin)
    except YamlSourceError as exc:
        raise PlaybookError(str(exc)) from None
    return _resolve(data, lines, origin)


def _resolve(data: Any, lines: Any, origin: str) -> Playbook:
    where = locations(lines, origin)
    if isinstance(data, dict) and data.get("extends") is not None:
        if data["extends"] != "default":
            line = location_of(where, ("extends",))
            raise PlaybookError(f"{origin} line {line[1] if line else 1}: extends: only 'default' can be extended")
        base, _, base_lines = _read(DEFAULT_PLAYBOOK)
        top = {key: value for key, value in data.items() if key != "extends"}
        data, where = overlay(base, base_lines, DEFAULT_PLAYBOOK.name, top, lines, origin)
    return _validate(data, where, origin)


def load_playbook(path: Path | str | None = None) -> Playbook:
    """The playbook at ``path``, or the shipped default."""
    file = Path(path) if path is not None else DEFAULT_PLAYBOOK
    data, _, lines = _read(file)
    return _resolve(data, lines, file.name)


@lru_cache(maxsize=8192)
def normalized_key(name: str) -> str:
    """How touchpoint types, channels, deal stages and statuses are compared: folded, ``_`` for gaps."""
    return "_".join("".join(c if c.isalnum() else " " for c in normalize(name)).split())
