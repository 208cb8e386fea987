"""The simulated book of business: buyers drawn from real companies, with the profile a credit
manager would hold on each (country, industry, legal form, account owner, insurance cover),
how much and how often they order, and how they pay."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from creditguard_simulation.companies import Company
from creditguard_simulation.statements import statement_lines, total_assets_eur

# Weights of the simulated book by country (ISO 3166-1 alpha-2), with legal forms usual there.
COUNTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("DE", 0.22, ("GmbH", "AG", "KG")),
    ("FR", 0.14, ("SARL", "SAS", "SA")),
    ("PL", 0.14, ("sp. z o.o.", "SA")),
    ("NL", 0.08, ("BV", "NV")),
    ("IT", 0.08, ("S.r.l.", "S.p.A.")),
    ("ES", 0.07, ("S.L.", "SA")),
    ("GB", 0.06, ("Ltd", "PLC")),
    ("BE", 0.04, ("BV", "NV")),
    ("AT", 0.04, ("GmbH", "AG")),
    ("CZ", 0.04, ("limited_company",)),
    ("SE", 0.03, ("limited_company", "public_company")),
    ("DK", 0.02, ("limited_company",)),
    ("PT", 0.02, ("limited_company",)),
    ("HU", 0.02, ("limited_company",)),
)
# NACE Rev. 2 sections (and two divisions the scoring tables rate on their own) of a B2B supplier's customers.
INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("C", 0.30),
    ("G", 0.23),
    ("F", 0.10),
    ("41", 0.03),
    ("47", 0.03),
    ("H", 0.08),
    ("J", 0.06),
    ("M", 0.06),
    ("N", 0.05),
    ("I", 0.04),
    ("Q", 0.02),
)
ACCOUNT_OWNERS = ("Anna Kowalska", "Jonas Weber", "Claire Martin", "Marco Rossi", "Lucía García", "Tom Baker")
NAME_STEMS = ("Nord", "Alpen", "Vistula", "Rhein", "Atlas", "Baltic", "Iberia", "Danube", "Orion", "Helix", "Tatra", "Loire")
NAME_TRADES = ("Metal", "Logistics", "Foods", "Components", "Build", "Trading", "Systems", "Plast", "Textiles", "Tools")
PAYMENT_TERMS_DAYS = (30, 30, 45, 60)
CURRENCY = "EUR"


class Behaviour(StrEnum):
    ON_TIME = "on_time"
    HABITUALLY_LATE = "habitually_late"
    DETERIORATING = "deteriorating"
    DEFAULTING = "defaulting"


class Scenario(StrEnum):
    BASE = "base"
    # Twice as many defaults in the second half of the year: weaker companies of the book fail too.
    DOWNTURN = "downturn"


@dataclass(frozen=True)
class BookConfig:
    buyers: int = 2000
    days: int = 365
    start: date = date(2026, 1, 5)
    seed: int = 7
    # None keeps the data set's own share of companies that went bankrupt (about 7%).
    bankrupt_share: float | None = None
    insured_share: float = 0.6
    # Gross margin of every sale: what an order earns when it is paid.
    margin: Decimal = Decimal("0.15")
    # The company brings its book with this much sales history (days before the first day)...
    history_days: int = 365
    # ...and wins this share of the buyers during the year: new relationships, onboarded on the day.
    new_buyer_share: float = 0.15
    scenario: Scenario = Scenario.BASE


@dataclass(frozen=True)
class Buyer:
    buyer_id: str
    name: str
    country: str
    industry: str
    legal_form: str
    founded_on: date
    account_owner: str
    company: Company
    statement: dict[str, Decimal | None] = field(repr=False)
    behaviour: Behaviour
    # Day index (0 = first simulated day) on which a defaulting buyer stops paying for good.
    default_day: int | None
    # A defaulter starts to slow down this many days before its default day...
    slowdown_days: int
    # ...and pays nothing at all for this many days before it (the insolvency filing comes later).
    silent_days: int
    # A habitually late payer's usual delay after the due date.
    usual_delay_days: int
    # Credit-insurance cover the insurer granted on this buyer (0 when uninsured).
    insurance_cover: Decimal
    orders_per_year: float
    mean_order: Decimal
    payment_terms_days: int
    # The day the company wins the buyer: 0 for the book it already has, later for new relationships.
    joins_day: int = 0
    relationship_since: date | None = None

    @property
    def is_new(self) -> bool:
        return self.joins_day > 0

    @property
    def insured(self) -> bool:
        return self.insurance_cover > 0

    @property
    def stops_paying_day(self) -> int | None:
        return None if self.default_day is None else self.default_day - self.silent_days

    @property
    def sales(self) -> Decimal:
        return self.statement.get("sales") or Decimal(0)


def _weighted(rng: random.Random, options: tuple[tuple, ...]) -> tuple:
    return rng.choices(options, weights=[o[1] for o in options])[0]


def _sample_companies(companies: list[Company], config: BookConfig, rng: random.Random) -> list[Company]:
    if config.bankrupt_share is None:
        pool = list(companies)
        rng.shuffle(pool)
        return [pool[i % len(pool)] for i in range(config.buyers)]
    bankrupt = [c for c in companies if c.bankrupt]
    healthy = [c for c in companies if not c.bankrupt]
    wanted = round(config.buyers * config.bankrupt_share)
    chosen = rng.sample(bankrupt, min(wanted, len(bankrupt))) + rng.sample(healthy, config.buyers - min(wanted, len(bankrupt)))
    rng.shuffle(chosen)
    return chosen


def _behaviour(company: Company, rng: random.Random) -> Behaviour:
    if company.bankrupt:
        return Behaviour.DEFAULTING
    equity_ratio = company.ratios.get("X10")
    return_on_assets = company.ratios.get("X1")
    deteriorating = 0.15 if return_on_assets is not None and return_on_assets < 0 else 0.04
    late = 0.35 if equity_ratio is not None and equity_ratio < 0.2 else 0.18
    draw = rng.random()
    if draw < deteriorating:
        return Behaviour.DETERIORATING
    return Behaviour.HABITUALLY_LATE if draw < deteriorating + late else Behaviour.ON_TIME


# A new buyer's first order comes this many days after it was won (registered and assessed).
ONBOARDING_DAYS = 2
# A defaulter won during the year trades at least this long before it fails.
NEW_BUYER_MIN_LIFE_DAYS = 60


def _joins_day(config: BookConfig, rng: random.Random) -> int:
    if rng.random() >= config.new_buyer_share or config.days < 20:
        return 0
    return rng.randint(5, max(int(config.days * 0.8), 5))


def _buyer(index: int, company: Company, config: BookConfig, rng: random.Random) -> Buyer:
    country, _, legal_forms = _weighted(rng, COUNTRIES)
    industry = _weighted(rng, INDUSTRIES)[0]
    statement = statement_lines(company.ratios, total_assets=total_assets_eur(company.ratios))
    behaviour = _behaviour(company, rng)
    joins_day = _joins_day(config, rng)
    earliest_default = int(config.days * 0.25)
    if behaviour is Behaviour.DEFAULTING and joins_day + NEW_BUYER_MIN_LIFE_DAYS > int(config.days * 0.95):
        joins_day = 0
    if joins_day:
        earliest_default = max(earliest_default, joins_day + NEW_BUYER_MIN_LIFE_DAYS)
    default_day = rng.randint(earliest_default, max(int(config.days * 0.95), earliest_default)) if behaviour is Behaviour.DEFAULTING else None
    # An existing relationship is more than a year old (up to fifteen), a new one starts on its day.
    relationship_since = config.start + timedelta(days=joins_day) if joins_day else config.start - timedelta(days=rng.randint(400, 15 * 365))
    sales = float(statement.get("sales") or 0) or 1_000_000.0
    # A supplier sells a buyer a small share of what the buyer turns over.
    annual_purchases = min(max(sales * rng.uniform(0.005, 0.03), 12_000.0), 3_000_000.0)
    orders_per_year = rng.uniform(6, 24)
    return Buyer(
        buyer_id=f"B-{index:05d}",
        name=f"{rng.choice(NAME_STEMS)} {rng.choice(NAME_TRADES)} {index:05d}",
        country=country,
        industry=industry,
        legal_form=rng.choice(legal_forms),
        founded_on=config.start - timedelta(days=rng.randint(2 * 365, 40 * 365)),
        account_owner=rng.choice(ACCOUNT_OWNERS),
        company=company,
        statement=statement,
        behaviour=behaviour,
        default_day=default_day,
        slowdown_days=rng.randint(60, 120),
        silent_days=rng.randint(0, 60),
        usual_delay_days=rng.randint(10, 35),
        # The insurer grants roughly half a year of purchases on the buyers it covers.
        insurance_cover=Decimal(str(round(annual_purchases / 2, -2))) if rng.random() < config.insured_share else Decimal(0),
        orders_per_year=orders_per_year,
        mean_order=Decimal(str(round(annual_purchases / orders_per_year, 2))),
        payment_terms_days=rng.choice(PAYMENT_TERMS_DAYS),
        joins_day=joins_day,
        relationship_since=relationship_since,
    )


def _downturn_weight(buyer: Buyer) -> float:
    """A downturn takes the weak first: thin equity and losses make a company several times likelier to fail."""
    equity_ratio, return_on_assets = buyer.company.ratios.get("X10"), buyer.company.ratios.get("X1")
    weight = 1.0
    if equity_ratio is not None and equity_ratio < 0.2:
        weight += 3.0
    if return_on_assets is not None and return_on_assets < 0:
        weight += 3.0
    return weight


def _with_downturn(book: list[Buyer], config: BookConfig) -> list[Buyer]:
    """Doubles the defaults of the second half of the year: as many more buyers as default there
    already fail there too, drawn from the healthy ones (the weak ones likelier)."""
    rng = random.Random(f"downturn:{config.seed}")
    half = config.days // 2
    extra = sum(1 for b in book if b.default_day is not None and b.default_day >= half)
    candidates = [b for b in book if b.default_day is None and b.joins_day + NEW_BUYER_MIN_LIFE_DAYS < int(config.days * 0.95)]
    chosen: set[str] = set()
    while len(chosen) < min(extra, len(candidates)):
        pool = [b for b in candidates if b.buyer_id not in chosen]
        chosen.add(rng.choices(pool, weights=[_downturn_weight(b) for b in pool])[0].buyer_id)
    failing = {}
    for buyer in candidates:
        if buyer.buyer_id in chosen:
            earliest = max(half, buyer.joins_day + NEW_BUYER_MIN_LIFE_DAYS)
            failing[buyer.buyer_id] = replace(buyer, behaviour=Behaviour.DEFAULTING, default_day=rng.randint(earliest, max(int(config.days * 0.95), earliest)))
    return [failing.get(b.buyer_id, b) for b in book]


def generate_book(companies: list[Company], config: BookConfig) -> list[Buyer]:
    rng = random.Random(f"book:{config.seed}")
    chosen = _sample_companies(companies, config, rng)
    book = [_buyer(i + 1, company, config, rng) for i, company in enumerate(chosen)]
    return _with_downturn(book, config) if config.scenario is Scenario.DOWNTURN else book
