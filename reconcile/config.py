"""Configuration: money rates by period (rates.toml) and settings (settings.toml).

Each settings key is declared once below with its default, converter and an
example. An unknown key or a value of the wrong type is a `ConfigError`
(exit 3) naming the file and key, never a silent default. Configuration is
parsed with `tomllib`; nothing is ever evaluated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from reconcile.errors import ConfigError


def to_cents(value: Any, where: str) -> int:
    """Euros from TOML (int, float or string) to integer cents, exactly."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{where} must be an amount in euros, not {value!r}.")
    try:
        amount = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise ConfigError(f"{where} must be an amount in euros, not {value!r}.") from None
    cents = amount * 100
    if cents != cents.to_integral_value() or amount < 0:
        raise ConfigError(f"{where} must be a non-negative amount with at most two decimals, not {value!r}.")
    return int(cents)


def to_hours(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{where} must be a number of hours, not {value!r}.")
    try:
        hours = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise ConfigError(f"{where} must be a number of hours, not {value!r}.") from None
    if hours < 0:
        raise ConfigError(f"{where} must not be negative.")
    return hours


@dataclass(frozen=True)
class Rates:
    valid_from: dt.date
    meal_price_cents: int
    meal_compensation_cents: int
    expense_compensation_cents: int
    guidance_min_hours: Decimal

    def as_text(self) -> dict[str, str]:
        """The block as written in rates.toml, exactly: euros with two decimals, hours as given."""
        from reconcile.text.format import euros

        return {
            "valid_from": self.valid_from.isoformat(),
            "meal_price_eur": euros(self.meal_price_cents),
            "meal_compensation_eur": euros(self.meal_compensation_cents),
            "expense_compensation_eur": euros(self.expense_compensation_cents),
            "guidance_min_hours": str(self.guidance_min_hours),
        }


_RATE_KEYS: dict[str, Callable[[Any, str], Any]] = {
    "meal_price_eur": to_cents,
    "meal_compensation_eur": to_cents,
    "expense_compensation_eur": to_cents,
    "guidance_min_hours": to_hours,
}


def _typed(kind: type, name: str) -> Callable[[Any, str], Any]:
    def convert(value: Any, where: str) -> Any:
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise ConfigError(f"{where} must be a {name}, not {value!r}.")
        return value

    return convert


def _language(value: Any, where: str) -> str:
    if value not in ("fi", "sv", "en"):
        raise ConfigError(f"{where} must be fi, sv or en, not {value!r}.")
    return value


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} must be a positive whole number, not {value!r}.")
    return value


# key: (default, converter, example)
SETTINGS: dict[str, tuple[Any, Callable[[Any, str], Any], str]] = {
    "ledger": ("", _typed(str, "path or URL"), '"/srv/reconcile/ledger.sqlite"'),
    "language": ("fi", _language, '"sv"'),
}
LIMITS: dict[str, tuple[Any, Callable[[Any, str], Any], str]] = {
    "max_uncompressed_mib": (50, _positive_int, "50"),
    "max_compression_ratio": (100, _positive_int, "100"),
    "max_rows": (20000, _positive_int, "20000"),
    "max_xml_depth": (64, _positive_int, "64"),
    "max_parts": (10000, _positive_int, "10000"),
    "max_register_rows": (500000, _positive_int, "500000"),
    "max_register_mib": (500, _positive_int, "500"),
}


@dataclass(frozen=True)
class Limits:
    max_uncompressed_mib: int = 50
    max_compression_ratio: int = 100
    max_rows: int = 20000
    max_xml_depth: int = 64
    max_parts: int = 10000
    # The city's own registers are inspected as strictly, but may be larger.
    max_register_rows: int = 500000
    max_register_mib: int = 500

    def for_registers(self) -> "Limits":
        return replace(self, max_rows=self.max_register_rows, max_uncompressed_mib=self.max_register_mib)


@dataclass(frozen=True)
class Config:
    directory: Path
    rates: tuple[Rates, ...]
    ledger: str = ""
    language: str = "fi"
    limits: Limits = field(default_factory=Limits)
    sha256: str = ""  # of the config files, for the run id and the manifest

    def with_language(self, language: str) -> "Config":
        """The same configuration writing finance and audit files in another language.

        The language is part of the configuration's hash, so the run id tells
        the two outputs apart.
        """
        language = _language(language, "--lang")
        if language == self.language:
            return self
        sha = hashlib.sha256(f"{self.sha256}\nlanguage={language}".encode()).hexdigest()
        return replace(self, language=language, sha256=sha)

    def rates_for(self, month: dt.date) -> Rates:
        """The block in force on the first day of the billed month."""
        first = month.replace(day=1)
        in_force = [r for r in self.rates if r.valid_from <= first]
        if not in_force:
            raise ConfigError(
                f"{self.directory / 'rates.toml'} has no rate block in force on {first.isoformat()}.",
                "Add a [[rates]] block with an earlier valid_from.",
            )
        return in_force[-1]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}.") from None
    except OSError as e:
        raise ConfigError(f"{path} cannot be read: {e.strerror}.") from None


def _parse_rates(path: Path, data: dict[str, Any]) -> tuple[Rates, ...]:
    unknown = set(data) - {"rates"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}; only [[rates]] blocks belong here.")
    blocks = data.get("rates")
    if not isinstance(blocks, list) or not blocks:
        raise ConfigError(f"{path} has no [[rates]] block.")
    out = []
    for i, block in enumerate(blocks, 1):
        where = f"{path} [[rates]] block {i}"
        if not isinstance(block, dict):
            raise ConfigError(f"{where} is not a table.")
        unknown = set(block) - set(_RATE_KEYS) - {"valid_from"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}.")
        missing = ({"valid_from"} | set(_RATE_KEYS)) - set(block)
        if missing:
            raise ConfigError(f"{where}: key {sorted(missing)[0]!r} is missing.")
        valid_from = block["valid_from"]
        if isinstance(valid_from, dt.datetime) or not isinstance(valid_from, dt.date):
            raise ConfigError(f"{where}: valid_from must be a date like 2026-01-01, not {valid_from!r}.")
        values = {k: conv(block[k], f"{where}: {k}") for k, conv in _RATE_KEYS.items()}
        out.append(
            Rates(
                valid_from=valid_from,
                meal_price_cents=values["meal_price_eur"],
                meal_compensation_cents=values["meal_compensation_eur"],
                expense_compensation_cents=values["expense_compensation_eur"],
                guidance_min_hours=values["guidance_min_hours"],
            )
        )
    out.sort(key=lambda r: r.valid_from)
    for a, b in zip(out, out[1:]):
        if a.valid_from == b.valid_from:
            raise ConfigError(f"{path}: two [[rates]] blocks are valid from {a.valid_from.isoformat()}; periods overlap.")
    return tuple(out)


def _parse_declared(path: Path, data: dict[str, Any], declared: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if key not in declared:
            raise ConfigError(f"{path}: unknown key {prefix}{key!r}.", f"Known keys: {', '.join(declared)}.")
        out[key] = declared[key][1](value, f"{path}: {prefix}{key}")
    return out


def load(directory: Path | str) -> Config:
    """Read `rates.toml` (required) and `settings.toml` (optional) from a folder."""
    directory = Path(directory)
    rates_path = directory / "rates.toml"
    if not rates_path.is_file():
        raise ConfigError(f"There is no rates.toml in {directory.resolve()}.",
                          "Run reconcile in the folder that holds config/, inbox/ and outbox/, "
                          "or point --config at the folder that holds rates.toml.")
    digest = hashlib.sha256()
    digest.update(rates_path.read_bytes())
    rates = _parse_rates(rates_path, _read_toml(rates_path))

    settings: dict[str, Any] = {k: v[0] for k, v in SETTINGS.items()}
    limits: dict[str, Any] = {k: v[0] for k, v in LIMITS.items()}
    settings_path = directory / "settings.toml"
    if settings_path.is_file():
        digest.update(b"\0")
        digest.update(settings_path.read_bytes())
        data = _read_toml(settings_path)
        raw_limits = data.pop("limits", {})
        if not isinstance(raw_limits, dict):
            raise ConfigError(f"{settings_path}: limits must be a table.")
        settings.update(_parse_declared(settings_path, data, SETTINGS))
        limits.update(_parse_declared(settings_path, raw_limits, LIMITS, "limits."))
    return Config(
        directory=directory,
        rates=rates,
        ledger=settings["ledger"],
        language=settings["language"],
        limits=Limits(**limits),
        sha256=digest.hexdigest(),
    )


def ensure_default(directory: Path | str) -> bool:
    """Give a folder without `rates.toml` the rates the program ships with; True if it wrote them.

    Only `reconcile demo` calls this, so that a demo runs in an empty folder. The
    shipped rates are a copy of the repository's `config/rates.toml`; every other
    command requires the city's own file.
    """
    from importlib.resources import files

    target = Path(directory) / "rates.toml"
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(files("reconcile.defaults").joinpath("rates.toml").read_bytes())
    return True
