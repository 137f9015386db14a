"""One frozen Config, built from environment variables (see README's configuration table)."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """An environment variable holds a value we cannot use; the message names it."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _num(env: Mapping[str, str], name: str, default: float, kind: type = float,
         lo: float | None = None, hi: float | None = None) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {raw!r}")
    return value


def _days(env: Mapping[str, str], name: str, default: float, lo: float) -> float:
    """A retention in days: 0 keeps the rows forever, anything else must be at least ``lo`` days."""
    value = _num(env, name, default, lo=0, hi=3650)
    if 0 < value < lo:
        raise ConfigError(f"{name} must be 0 (keep forever) or at least {lo:g} days, got {value:g}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "none"):
        return None
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)} (or unset), got {raw!r}")
    return raw


def _one_of(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {env.get(name)!r}")
    return raw


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_webhook_secret(secret: str, name: str = "MODERATION_WEBHOOK_SECRET") -> bytes:
    """Standard Webhooks secrets look like ``whsec_<base64 key>``; the key is the decoded part."""
    body = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(body, validate=True)
    except ValueError:
        raise ConfigError(f"{name} must be 'whsec_' followed by base64, got an undecodable value") from None
    if len(key) < 16:
        raise ConfigError(f"{name} must hold at least 16 bytes of key material")
    return key


# A hash key written as this prefix + hex: the key earlier releases derived from the webhook secret, kept for
# their installs (core/secrets.py), so their hashes still match.
DERIVED_HASH_KEY_PREFIX = "hkx_"


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# The classifier's attributes (classifier.ATTRIBUTES; repeated here: config knows nothing of the classifier).
ATTRIBUTES = ("toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity",
              "sexually_explicit", "spam")
DEFAULT_HOLD = 0.50
# Attributes that hold a comment by themselves unless the model's metadata says otherwise
# (metadata["hold_attributes"]): profanity aimed at no one is not a reason to hold (issue #14), so profanity
# holds only when MODERATION_PROFANITY_HOLD is set.
DEFAULT_HOLD_ATTRIBUTES = tuple(a for a in ATTRIBUTES if a != "profanity")


@dataclass(frozen=True)
class Thresholds:
    """Score thresholds that turn classifier probabilities into a status: one hold threshold per attribute
    (``spam_hold``, ``abuse_hold`` for toxicity, ``other`` for the rest) and the spam reject threshold."""

    spam_reject: float = 0.90  # spam >= this (with evidence, see decisions/decide.py): rejected as spam
    spam_hold: float = 0.50    # spam >= this: held for review
    abuse_hold: float = 0.50   # toxicity (the old "abuse") >= this: held for review
    other: tuple[tuple[str, float], ...] = ()  # (attribute, hold threshold) of the other attributes
    holding: tuple[str, ...] = DEFAULT_HOLD_ATTRIBUTES  # attributes that hold by themselves

    def hold(self, attribute: str) -> float:
        """The hold threshold of ``attribute`` (``abuse`` is toxicity)."""
        if attribute == "spam":
            return self.spam_hold
        if attribute in ("toxicity", "abuse"):
            return self.abuse_hold
        return dict(self.other).get(attribute, DEFAULT_HOLD)

    def holds(self, attribute: str) -> bool:
        return attribute in self.holding or attribute in ("spam", "toxicity")

    def as_dict(self) -> dict[str, float]:
        """As stored with every decision: ``spam_reject``, ``spam_hold``, ``abuse_hold`` (toxicity) and
        ``<attribute>_hold`` for every other attribute that holds."""
        out = {"spam_reject": self.spam_reject, "spam_hold": self.spam_hold, "abuse_hold": self.abuse_hold}
        out.update({f"{a}_hold": self.hold(a) for a in ATTRIBUTES if a not in ("spam", "toxicity")
                    and self.holds(a)})
        return out


def threshold_env(attribute: str) -> str:
    """The environment variable of ``attribute``'s hold threshold: ``MODERATION_THREAT_HOLD``, …
    (toxicity keeps its old name, ``MODERATION_ABUSE_HOLD``)."""
    return "MODERATION_ABUSE_HOLD" if attribute == "toxicity" else f"MODERATION_{attribute.upper()}_HOLD"


# threshold name (as in Thresholds.as_dict) -> its environment variable
THRESHOLD_ENV = {"spam_reject": "MODERATION_SPAM_REJECT", "spam_hold": "MODERATION_SPAM_HOLD",
                 "abuse_hold": "MODERATION_ABUSE_HOLD",
                 **{f"{a}_hold": threshold_env(a) for a in ATTRIBUTES if a not in ("spam", "toxicity")}}


def _recommended(metadata: Mapping[str, float]) -> dict[str, float]:
    """A model's thresholds (metadata["thresholds"]) under Thresholds' names: the per-attribute keys
    (``toxicity``, ``threat``, …, ``spam``, ``spam_reject``) win over the older ``spam_hold``/``abuse_hold``
    (and ``spam``/``abuse``/``reject``) ones."""
    out: dict[str, float] = {}
    legacy = {"abuse": "abuse_hold", "reject": "spam_reject", "spam_hold": "spam_hold",
              "abuse_hold": "abuse_hold", "spam_reject": "spam_reject"}
    for key, name in legacy.items():
        if isinstance(metadata.get(key), int | float):
            out[name] = float(metadata[key])
    for attribute in ATTRIBUTES:
        value = metadata.get(attribute)
        if isinstance(value, int | float):
            out["spam_hold" if attribute == "spam" else "abuse_hold" if attribute == "toxicity"
                else f"{attribute}_hold"] = float(value)
    return out


def effective_thresholds(config: Config, recommended: Mapping[str, float] | None,
                         hold_attributes: Sequence[str] | None = None) -> Thresholds:
    """The thresholds in force: explicit ``config.thresholds``, else the model's recommended ones (chosen on
    held-out data when it was trained) with any environment overrides on top.  ``hold_attributes``: the
    attributes the model says hold by themselves (metadata["hold_attributes"]); an attribute whose
    threshold is set in the environment holds too."""
    if config.thresholds is not None:
        return config.thresholds
    values = {**Thresholds().as_dict(), **_recommended(recommended or {}), **dict(config.threshold_overrides)}
    holding = set(hold_attributes if hold_attributes is not None else DEFAULT_HOLD_ATTRIBUTES)
    holding |= {name.removesuffix("_hold") for name, _ in config.threshold_overrides if name.endswith("_hold")}
    other = tuple((a, float(values.get(f"{a}_hold", DEFAULT_HOLD))) for a in ATTRIBUTES
                  if a not in ("spam", "toxicity"))
    result = Thresholds(spam_reject=values["spam_reject"], spam_hold=values["spam_hold"],
                        abuse_hold=values["abuse_hold"], other=other,
                        holding=tuple(a for a in ATTRIBUTES if a in holding))
    if result.spam_hold > result.spam_reject:
        raise ConfigError(f"spam hold threshold {result.spam_hold} exceeds spam reject threshold "
                          f"{result.spam_reject} (MODERATION_SPAM_HOLD / MODERATION_SPAM_REJECT)")
    return result


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str | None, tuple[Any, ...]]:
    """``MODERATION_TRUSTED_PROXIES`` (CIDRs) and the header they write.  Only the header set (the older
    setting): the proxies are this host and private networks, where a TLS-terminating proxy usually runs."""
    from moderation.core.clientip import PRIVATE_AND_LOOPBACK, parse_networks

    header = env.get("MODERATION_TRUSTED_PROXY_HEADER") or None
    raw = env.get("MODERATION_TRUSTED_PROXIES", "").strip()
    try:
        proxies = parse_networks(raw)
    except ValueError as exc:
        raise ConfigError(f"MODERATION_TRUSTED_PROXIES: {exc}") from None
    if proxies and header is None:
        header = "X-Forwarded-For"
    if header is not None and not proxies:
        proxies = PRIVATE_AND_LOOPBACK
    return header, proxies


@dataclass(frozen=True)
class Config:
    database_url: str | None = field(default=None, repr=False)
    data_dir: Path = Path("data")
    webhook_secret: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 8080
    thresholds: Thresholds | None = None  # None: the model's recommended thresholds (+ threshold_overrides)
    threshold_overrides: tuple[tuple[str, float], ...] = ()  # from MODERATION_SPAM_REJECT, MODERATION_<ATTRIBUTE>_HOLD
    unsupported_language: str = "hold"  # a language the model has no heads for: hold | publish
    premoderation: bool = False
    max_text_chars: int = 10_000
    max_body_bytes: int = 256 * 1024
    scoring_deadline_s: float = 2.0
    scoring_processes: int = 1  # worker processes for the model; 0 = score in a thread (tests, tiny installs)
    model_path: Path | None = None
    # keys the hashes of e-mails/IPs, reader cookies, codes: env, else data/hash_key (core/secrets.py)
    hash_key: str | None = field(default=None, repr=False)
    callback_url: str | None = None
    callback_secret: str | None = field(default=None, repr=False)
    # outbox delivery worker (moderation/delivery/outbox.py, docs/review-api.md)
    callback_timeout_s: float = 10.0      # per attempt; the row's lease is this plus a margin
    callback_max_attempts: int = 12       # then the row is marked failed (admins can retry it)
    callback_backoff_s: float = 2.0       # first retry delay; doubles per attempt, with jitter
    callback_backoff_max_s: float = 3600.0
    callback_concurrency: int = 8         # deliveries in flight per instance
    require_confirmation: bool = False
    challenge_ttl_s: float = 120.0
    token_ttl_s: float = 300.0
    challenge_rate_per_minute: int = 30
    challenge_code_length: int = 5  # characters per confirmation code (4-8)
    challenge_render_processes: int = 2  # captcha renderer processes; 0 = the shared thread executor
    challenge_render_niceness: int = 19  # renderer processes' CPU priority (os.nice); the event loop goes first
    # proof of work (ALTCHA) and the code as a second step (docs/challenges.md)
    confirmation: str = "proof+code"     # 'proof+code' | 'proof' | 'code'
    # ALTCHA maxnumber at normal load (expected work: half of it).  20,000: a reader at a quarter of this
    # machine's CPU waits ~0.6 s (50,000 was 1.2-1.3 s); the faster doubling below keeps the attack's cost
    # per token (bench/captcha_attack.py, docs/challenges.md)
    pow_difficulty: int = 20_000
    pow_max_difficulty: int = 1_000_000_000
    pow_ttl_s: float = 1800.0            # a proof challenge stays solvable this long (the reader is typing)
    pow_ip_free: int = 5                 # challenges per sliding hour an IP hash gets at the base difficulty
    pow_ip_doubling: float = 1.75        # ... then every this many more double the difficulty
    pow_article_free: int = 300          # challenges per hour an article takes before load raises difficulty
    pow_article_max_doublings: float = 5.0   # at most 32x the base: 640,000 (it was 16x 50,000 = 800,000)
    pow_risk_ip_challenges: int = 10     # more challenges than this from one IP hash in an hour: the code too
    pow_max_hash_rate: float = 40e6      # a proof implying more hashes/s than this (no browser) asks the code
    tokens_per_hour: int = 30            # confirmation tokens one IP hash may earn per sliding hour
    code_only_per_hour: int = 5          # ... of which by the code alone, without a proof ('proof+code' mode)
    trusted_proxy_header: str | None = None
    trusted_proxies: tuple[Any, ...] = ()      # ipaddress networks whose forwarding header is believed
    ipv6_limit_prefix: int = 64                # per-address limits count an IPv6 client by this prefix
    ipv4_limit_prefix: int = 32
    cors_origins: tuple[str, ...] = ()
    siteverify_secret: str | None = field(default=None, repr=False)
    max_concurrency: int = 256
    db_pool_size: int = 10
    # PgBouncer (or another pooler) in front of Postgres: "transaction" turns asyncpg's statement cache off and
    # keeps migrations (session advisory lock) off the pooler (README "Running several instances")
    db_pooler: str | None = None
    db_direct_url: str | None = field(default=None, repr=False)  # the server itself, for migrations
    log_json: bool = True
    # share of fast 2xx/3xx requests written to the access log (4xx/5xx and slow ones always are); intake perf
    access_log_sample: float = 0.01
    session_ttl_s: float = 8 * 3600.0  # moderator UI session idle expiry (review/auth.py)
    secure_cookies: bool = False       # force the Secure cookie flag (behind a TLS-terminating proxy)
    # reactions / public API / demo (docs/readers.md)
    reaction_rate_reader: int = 30     # reactions per minute per reader id (CMS id or anonymous cookie)
    reaction_rate_ip: int = 300        # reactions per minute per client IP (hash): catches cookie clearing
    public_max_age_s: int = 5          # Cache-Control max-age of the public comment list / article summary
    reader_cookie_cross_site: bool = False  # SameSite=None; Secure reader cookie, for pages on other sites
    demo_enabled: bool = False         # serve /demo/articles/{id} (posts comments signed with our own key)
    reports_to_hold: int = 3           # readers' open reports that hold a published comment for review (0: never)
    # retention worker (moderation/privacy/retention.py, README "Data retention and erasure")
    retention_interval_s: float = 600.0   # one pruning round per instance this often
    retain_receipts_days: float = 7.0     # webhook receipts (idempotent replays), >= 1; 0 keeps them forever
    retain_outbox_days: float = 14.0      # delivered callbacks; 0 keeps them forever (failed ones always stay)
    retain_abuse_log_days: float = 30.0   # reactions' rate-limit refusals; 0 keeps them forever
    retain_rate_limits_s: float = 7200.0  # rate-limit windows: two of the longest in use (sliding hours read the last)
    retain_challenges_s: float = 600.0    # expired challenges and tokens (a late answer hears "expired")
    api_key_rate_per_minute: int = 600  # compat (Perspective/Akismet) calls per minute per API key (0: unlimited)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        if env.get("MODERATION_TOXICITY_HOLD") and not env.get("MODERATION_ABUSE_HOLD"):  # the attribute's name
            env = {**env, "MODERATION_ABUSE_HOLD": env["MODERATION_TOXICITY_HOLD"]}
        overrides = tuple((name, _num(env, var, 0.0, lo=0, hi=1)) for name, var in THRESHOLD_ENV.items()
                          if env.get(var))
        secret = env.get("MODERATION_WEBHOOK_SECRET") or None
        if secret is not None:
            parse_webhook_secret(secret)
        model_path = env.get("MODERATION_MODEL_PATH") or None
        proxy_header, proxies = _trusted_proxies(env)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("MODERATION_DATA_DIR") or "data"),
            webhook_secret=secret,
            host=env.get("MODERATION_HOST") or "127.0.0.1",
            port=int(_num(env, "MODERATION_PORT", 8080, int, lo=0, hi=65535)),
            threshold_overrides=overrides,
            unsupported_language=_one_of(env, "MODERATION_UNSUPPORTED_LANGUAGE", ("hold", "publish"), "hold"),
            premoderation=_bool(env, "MODERATION_PREMODERATION", False),
            max_text_chars=int(_num(env, "MODERATION_MAX_TEXT_CHARS", 10_000, int, lo=1)),
            max_body_bytes=int(_num(env, "MODERATION_MAX_BODY_BYTES", 256 * 1024, int, lo=1024)),
            scoring_deadline_s=_num(env, "MODERATION_SCORING_DEADLINE", 2.0, lo=0.001),
            scoring_processes=int(_num(env, "MODERATION_SCORING_PROCESSES", 1, int, lo=0, hi=64)),
            model_path=Path(model_path) if model_path else None,
            hash_key=env.get("MODERATION_HASH_KEY") or None,
            callback_url=env.get("MODERATION_CALLBACK_URL") or None,
            callback_secret=env.get("MODERATION_CALLBACK_SECRET") or None,
            callback_timeout_s=_num(env, "MODERATION_CALLBACK_TIMEOUT", 10.0, lo=0.1, hi=300),
            callback_max_attempts=int(_num(env, "MODERATION_CALLBACK_MAX_ATTEMPTS", 12, int, lo=1, hi=100)),
            callback_backoff_s=_num(env, "MODERATION_CALLBACK_BACKOFF", 2.0, lo=0.01, hi=3600),
            callback_backoff_max_s=_num(env, "MODERATION_CALLBACK_BACKOFF_MAX", 3600.0, lo=0.01, hi=86400),
            callback_concurrency=int(_num(env, "MODERATION_CALLBACK_CONCURRENCY", 8, int, lo=1, hi=256)),
            require_confirmation=_bool(env, "MODERATION_REQUIRE_CONFIRMATION", False),
            challenge_ttl_s=_num(env, "MODERATION_CHALLENGE_TTL", 120.0, lo=1),
            token_ttl_s=_num(env, "MODERATION_TOKEN_TTL", 300.0, lo=1),
            challenge_rate_per_minute=int(_num(env, "MODERATION_CHALLENGE_RATE", 30, int, lo=1)),
            challenge_code_length=int(_num(env, "MODERATION_CHALLENGE_CODE_LENGTH", 5, int, lo=4, hi=8)),
            challenge_render_processes=int(_num(env, "MODERATION_CHALLENGE_RENDER_PROCESSES", 2, int, lo=0,
                                                hi=64)),
            challenge_render_niceness=int(_num(env, "MODERATION_CHALLENGE_RENDER_NICENESS", 19, int, lo=0, hi=19)),
            confirmation=_choice(env, "MODERATION_CONFIRMATION", ("proof+code", "proof", "code")) or "proof+code",
            pow_difficulty=int(_num(env, "MODERATION_POW_DIFFICULTY", 20_000, int, lo=1, hi=10**12)),
            pow_max_difficulty=int(_num(env, "MODERATION_POW_MAX_DIFFICULTY", 1_000_000_000, int, lo=1,
                                        hi=10**15)),
            pow_ttl_s=_num(env, "MODERATION_POW_TTL", 1800.0, lo=10, hi=86400),
            pow_ip_free=int(_num(env, "MODERATION_POW_IP_FREE", 5, int, lo=0)),
            pow_ip_doubling=_num(env, "MODERATION_POW_IP_DOUBLING", 1.75, lo=0.1),
            pow_article_free=int(_num(env, "MODERATION_POW_ARTICLE_FREE", 300, int, lo=0)),
            pow_article_max_doublings=_num(env, "MODERATION_POW_ARTICLE_MAX_DOUBLINGS", 5.0, lo=0, hi=40),
            pow_risk_ip_challenges=int(_num(env, "MODERATION_POW_RISK_IP_CHALLENGES", 10, int, lo=0)),
            pow_max_hash_rate=_num(env, "MODERATION_POW_MAX_HASH_RATE", 40e6, lo=1),
            tokens_per_hour=int(_num(env, "MODERATION_TOKENS_PER_HOUR", 30, int, lo=1)),
            code_only_per_hour=int(_num(env, "MODERATION_CODE_ONLY_PER_HOUR", 5, int, lo=0)),
            trusted_proxy_header=proxy_header,
            trusted_proxies=proxies,
            ipv6_limit_prefix=int(_num(env, "MODERATION_IPV6_PREFIX", 64, int, lo=1, hi=128)),
            ipv4_limit_prefix=int(_num(env, "MODERATION_IPV4_PREFIX", 32, int, lo=1, hi=32)),
            cors_origins=_list(env, "MODERATION_CORS_ORIGINS"),
            siteverify_secret=env.get("MODERATION_SITEVERIFY_SECRET") or None,
            max_concurrency=int(_num(env, "MODERATION_MAX_CONCURRENCY", 256, int, lo=1)),
            db_pool_size=int(_num(env, "MODERATION_DB_POOL_SIZE", 10, int, lo=1)),
            db_pooler=_choice(env, "MODERATION_DB_POOLER", ("session", "transaction")),
            db_direct_url=env.get("MODERATION_DB_DIRECT_URL") or None,
            log_json=_bool(env, "MODERATION_LOG_JSON", True),
            access_log_sample=_num(env, "MODERATION_ACCESS_LOG_SAMPLE", 0.01, lo=0, hi=1),
            session_ttl_s=_num(env, "MODERATION_SESSION_TTL", 8 * 3600.0, lo=60),
            secure_cookies=_bool(env, "MODERATION_SECURE_COOKIES", False),
            reaction_rate_reader=int(_num(env, "MODERATION_REACTION_RATE_READER", 30, int, lo=1)),
            reaction_rate_ip=int(_num(env, "MODERATION_REACTION_RATE_IP", 300, int, lo=1)),
            public_max_age_s=int(_num(env, "MODERATION_PUBLIC_MAX_AGE", 5, int, lo=0, hi=86400)),
            reader_cookie_cross_site=_bool(env, "MODERATION_READER_COOKIE_CROSS_SITE", False),
            demo_enabled=_bool(env, "MODERATION_DEMO", False),
            reports_to_hold=int(_num(env, "MODERATION_REPORTS_TO_HOLD", 3, int, lo=0, hi=1000)),
            retention_interval_s=_num(env, "MODERATION_RETENTION_INTERVAL", 600.0, lo=1, hi=86400),
            retain_receipts_days=_days(env, "MODERATION_RETAIN_RECEIPTS_DAYS", 7.0, lo=1),
            retain_outbox_days=_days(env, "MODERATION_RETAIN_OUTBOX_DAYS", 14.0, lo=0),
            retain_abuse_log_days=_days(env, "MODERATION_RETAIN_ABUSE_LOG_DAYS", 30.0, lo=0),
            retain_rate_limits_s=_num(env, "MODERATION_RETAIN_RATE_LIMITS", 7200.0, lo=7200, hi=30 * 86400),
            retain_challenges_s=_num(env, "MODERATION_RETAIN_CHALLENGES", 600.0, lo=0, hi=30 * 86400),
            api_key_rate_per_minute=int(_num(env, "MODERATION_API_KEY_RATE", 600, int, lo=0)),
        )

    def with_changes(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def webhook_key(self) -> bytes:
        if self.webhook_secret is None:
            raise ConfigError("no webhook secret configured (core.secrets.resolve() fills it from the data dir)")
        return parse_webhook_secret(self.webhook_secret)

    @property
    def hashing_key(self) -> bytes:
        """Key for the HMAC hashes of e-mails, IPs, codes: never stored beside the hashes."""
        if self.hash_key and self.hash_key.startswith(DERIVED_HASH_KEY_PREFIX):
            return bytes.fromhex(self.hash_key.removeprefix(DERIVED_HASH_KEY_PREFIX))
        if self.hash_key:
            return self.hash_key.encode()
        return b"moderation-hash:" + self.webhook_key  # no key resolved (tests, library use): the old derivation
