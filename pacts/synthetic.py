"""Synthetic agreements at scale, for benchmarks: `manage.py seed_synthetic`.

The data is plausible rather than real: states paired by region and alliance
weight, the kind, lane, status, confidence, date-precision and citation mix of the
demo data (pacts/demo/agreements.json, counted when the module loads), dates from
1950 to `today` at the three precisions and some unknown, and a long tail of event
counts (1% of agreements have 500 to 2,000 events) around a chosen mean. Some
aliases, summaries and headlines are Korean, Japanese or Arabic.

Deterministic: one `random.Random(seed)` draws everything, in a fixed order, and
nothing depends on the clock except `today`, which the caller passes (the command
takes it from `--today`, else the current date). Loading into an empty database
with the same seed and today gives the same rows and ids.

Loading is PostgreSQL-only and bulk: rows are generated batch by batch into COPY
buffers with ids assigned here (so events can point at each other and the status
can be derived in memory by `vocabulary.derive_status`, exactly as
`Agreement.store_status` would), secondary indexes are dropped first and rebuilt
after, each batch's search documents are computed with one UPDATE by a writer
thread while the next batch is generated, and no history is written. As a superuser
the per-row triggers (foreign keys, the lane and `resolves` rules of migration 0002)
are off during the COPY, and the same rules are then checked set-wise with SQL before
the transaction commits.
"""

import bisect
import hashlib
import io
import itertools
import json
import queue
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.db import connection, transaction
from django_countries import countries

from pacts import vocabulary
from pacts.dates import DAY, MONTH, YEAR, Period
from pacts.durations import step_dates
from pacts.models.source import normalise_headline
from pacts.vocabulary import JOINT, KIND_POSITION, Step, derive_status

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "agreements.json"

FIRST_YEAR = 1950
LONG_TAIL_SHARE = 0.01
LONG_TAIL_EVENTS = (500, 2000)
# Smallest mean the ordinary agreements can have; below it the long tail shrinks.
SMALLEST_ORDINARY_MEAN = 3
UNKNOWN_DATE_SHARE = 0.03
NEW_SOURCE_SHARE = 0.3
# An event cites again one of its agreement's last few reports only if it came out within a month of it.
REUSED_AMONG, REUSE_DAYS = 8, 31
STORY_SHARE = 0.15
CONTRADICTING_SHARE = 0.03
CODENAME_SHARE = 0.2

# --- Where the states are ---------------------------------------------------------

REGIONS = {
    "east-asia": "KR JP CN TW MN KP",
    "southeast-asia": "PH VN TH MY SG ID BN KH LA MM TL",
    "south-asia": "IN PK BD LK NP BT MV AF",
    "oceania": "AU NZ PG FJ TO WS SB VU",
    "north-america": "US CA MX",
    "latin-america": "BR AR CL CO PE UY PY BO EC VE GT HN SV NI CR PA DO CU JM TT",
    "western-europe": "GB FR DE IT ES PT NL BE LU IE DK NO SE FI IS AT CH",
    "eastern-europe": "PL CZ SK HU RO BG EE LV LT SI HR RS BA ME MK AL GR CY MT UA MD BY GE AM AZ XK",
    "middle-east": "SA AE QA KW BH OM YE IQ IR IL JO LB SY TR EG",
    "africa": "NG KE ZA ET GH SN CI MA DZ TN LY SD UG TZ RW AO MZ CM DJ NA BW ZM ZW MR SO",
    "central-asia": "RU KZ UZ KG TJ TM",
}
# States that sign defence agreements with many others, by how often.
MAJOR_PARTNERS = {
    "US": 30, "FR": 12, "GB": 12, "RU": 10, "CN": 10, "JP": 8, "IN": 8, "DE": 8, "TR": 6, "AU": 6,
    "KR": 6, "IT": 5, "IL": 4, "SA": 4, "AE": 4, "BR": 3, "ES": 3, "PL": 3, "CA": 3, "PK": 3,
}  # fmt: skip
ARAB_STATES = frozenset(["SA", "AE", "QA", "KW", "BH", "OM", "YE", "IQ", "JO", "LB", "SY", "EG"])
ARAB_STATES |= {"MA", "DZ", "TN", "LY", "SD", "MR", "SO", "DJ"}

SHORT_NAMES = {
    "US": "US", "GB": "UK", "KR": "Korea", "KP": "North Korea", "RU": "Russia", "AE": "UAE", "CZ": "Czechia",
    "TW": "Taiwan", "IR": "Iran", "VN": "Vietnam", "LA": "Laos", "SY": "Syria", "BO": "Bolivia", "VE": "Venezuela",
    "TZ": "Tanzania", "MD": "Moldova", "BN": "Brunei", "TL": "Timor-Leste", "CI": "Côte d'Ivoire",
}  # fmt: skip
CAPITALS = {
    "US": "Washington", "JP": "Tokyo", "KR": "Seoul", "CN": "Beijing", "RU": "Moscow", "GB": "London",
    "FR": "Paris", "DE": "Berlin", "IN": "New Delhi", "AU": "Canberra", "TR": "Ankara", "IT": "Rome",
    "IL": "Jerusalem", "SA": "Riyadh", "AE": "Abu Dhabi", "BR": "Brasília", "ES": "Madrid", "PL": "Warsaw",
    "CA": "Ottawa", "PK": "Islamabad", "PH": "Manila", "VN": "Hanoi", "ID": "Jakarta", "EG": "Cairo",
    "QA": "Doha", "UA": "Kyiv", "SG": "Singapore", "NZ": "Wellington", "MN": "Ulaanbaatar", "TH": "Bangkok",
}  # fmt: skip

KOREAN_NAMES = {
    "KR": "한국", "KP": "북한", "US": "미국", "JP": "일본", "CN": "중국", "RU": "러시아", "GB": "영국", "FR": "프랑스",
    "DE": "독일", "AU": "호주", "IN": "인도", "PH": "필리핀", "VN": "베트남", "CA": "캐나다", "IT": "이탈리아",
    "TR": "튀르키예", "PL": "폴란드", "ID": "인도네시아", "TH": "태국", "SA": "사우디아라비아", "AE": "아랍에미리트",
    "IL": "이스라엘", "BR": "브라질", "NZ": "뉴질랜드", "SG": "싱가포르", "MY": "말레이시아", "MN": "몽골",
    "ES": "스페인", "NL": "네덜란드", "SE": "스웨덴", "NO": "노르웨이", "UA": "우크라이나", "EG": "이집트",
    "QA": "카타르",
}  # fmt: skip
JAPANESE_NAMES = {
    "JP": "日本", "US": "米国", "KR": "韓国", "KP": "北朝鮮", "CN": "中国", "RU": "ロシア", "GB": "英国",
    "FR": "フランス",
    "DE": "ドイツ", "AU": "オーストラリア", "IN": "インド", "PH": "フィリピン", "VN": "ベトナム", "CA": "カナダ",
    "IT": "イタリア", "TR": "トルコ", "PL": "ポーランド", "ID": "インドネシア", "TH": "タイ", "SA": "サウジアラビア",
    "AE": "アラブ首長国連邦", "IL": "イスラエル", "BR": "ブラジル", "NZ": "ニュージーランド", "SG": "シンガポール",
    "MY": "マレーシア", "MN": "モンゴル", "ES": "スペイン", "NL": "オランダ", "UA": "ウクライナ", "EG": "エジプト",
}  # fmt: skip
ARABIC_NAMES = {
    "SA": "السعودية", "AE": "الإمارات", "QA": "قطر", "KW": "الكويت", "BH": "البحرين", "OM": "عُمان", "YE": "اليمن",
    "IQ": "العراق", "JO": "الأردن", "LB": "لبنان", "SY": "سوريا", "EG": "مصر", "MA": "المغرب", "DZ": "الجزائر",
    "TN": "تونس", "LY": "ليبيا", "SD": "السودان", "MR": "موريتانيا", "SO": "الصومال", "DJ": "جيبوتي",
    "US": "الولايات المتحدة", "GB": "المملكة المتحدة", "FR": "فرنسا", "RU": "روسيا", "CN": "الصين", "TR": "تركيا",
    "IN": "الهند", "PK": "باكستان", "DE": "ألمانيا", "IT": "إيطاليا", "JP": "اليابان", "KR": "كوريا الجنوبية",
}  # fmt: skip

# --- What the agreements are about ----------------------------------------------------

KIND_TEXTS = {
    # kind: (subject of the English title, abbreviation in the short name, Korean, Japanese, Arabic)
    "intelligence-sharing": (
        "the Protection of Classified Military Information", "GSOMIA",
        "군사정보보호협정", "秘密軍事情報保護協定", "اتفاقية حماية المعلومات العسكرية",
    ),
    "logistics": (
        "the Reciprocal Provision of Supplies and Services", "ACSA",
        "상호군수지원협정", "物品役務相互提供協定", "اتفاقية الدعم اللوجستي المتبادل",
    ),
    "reciprocal-access": (
        "Reciprocal Access and Cooperation Facilitation", "RAA",
        "상호접근협정", "円滑化協定", "اتفاقية الوصول المتبادل",
    ),
    "defence-cooperation": (
        "Defence Cooperation", "DCA", "방위협력협정", "防衛協力協定", "اتفاقية التعاون الدفاعي",
    ),
    "equipment-and-technology": (
        "the Transfer of Defence Equipment and Technology", "Defence Equipment Agreement",
        "방산기술협력협정", "防衛装備品・技術移転協定", "اتفاقية نقل المعدات والتكنولوجيا الدفاعية",
    ),
    "other": (
        "the Status of Visiting Forces", "SOFA", "주둔군지위협정", "地位協定", "اتفاقية وضع القوات",
    ),
}  # fmt: skip

EVENT_TEXTS = {
    "negotiation-opened": ["{a} and {b} open formal talks on the {n}"],
    "negotiation-resumed": ["Talks on the {n} resume after a pause"],
    "negotiation-round": ["Round {k} of talks on the {n} held in {city}", "Working-level talks on the {n} in {city}"],
    "negotiation-suspended": ["{p} puts talks on the {n} on hold"],
    "agreement-in-principle": ["Negotiators reach agreement in principle on the {n}"],
    "text-initialled": ["Negotiators initial the text of the {n}"],
    "legal-review": ["Legislation bureau of {p} reviews the text of the {n}"],
    "cabinet-approval": ["Cabinet of {p} approves the {n}"],
    "head-of-state-approval": ["Head of state of {p} approves the {n}"],
    "signature": ["{a} and {b} sign the {n} in {city}", "Defence ministers sign the {n}"],
    "legislative-submission": ["Government of {p} submits the {n} to the legislature"],
    "legislative-hearing": [
        "Legislature of {p} holds a hearing on the {n}",
        "Defence committee of {p} questions ministers",
    ],
    "legislative-committee-report": ["Committee of the {p} legislature reports on the {n}"],
    "legislative-vote": ["Lower house of {p} votes on the {n}"],
    "legislative-consent": ["Legislature of {p} consents to the {n}"],
    "legislative-consent-refused": ["Legislature of {p} refuses consent to the {n}"],
    "legislative-consent-not-required": ["{p} says the {n} needs no legislative consent"],
    "court-challenge": ["Opponents challenge the {n} before a court of {p}"],
    "court-ruling": ["Court in {p} rules on the {n}"],
    "ratification": ["{p} ratifies the {n}"],
    "notification-of-completion": ["{p} notifies completion of its procedures for the {n}"],
    "exchange-of-notes": ["{a} and {b} exchange notes on the {n}"],
    "provisional-application": ["{a} and {b} begin applying the {n} provisionally"],
    "entry-into-force": ["The {n} enters into force"],
    "implementing-legislation": ["{p} passes legislation implementing the {n}"],
    "official-publication": ["{p} publishes the {n} in its official gazette"],
    "renewal": ["The {n} is extended for another term"],
    "amendment": ["{a} and {b} amend the {n}"],
    "suspension-of-operation": ["{p} suspends the operation of the {n}"],
    "suspension-lifted": ["Operation of the {n} resumes"],
    "termination-decision": ["Government of {p} decides to end the {n}"],
    "termination-notice": ["{p} gives notice of termination of the {n}"],
    "termination-notice-suspended": ["{p} suspends its termination notice on the {n}"],
    "termination-notice-withdrawn": ["{p} withdraws its termination notice on the {n}"],
    "expiry": ["The {n} expires"],
    "termination": ["The {n} is terminated"],
    "superseded": ["A new agreement replaces the {n}"],
    "statement": [
        "Defence minister of {p} defends the {n}",
        "Opposition in {p} criticises the {n}",
        "Foreign ministry of {p} comments on the {n}",
        "Officials of {p} brief reporters on the {n}",
    ],
    "public-reaction": [
        "Protest in {p} against the {n}",
        "Poll in {p} shows divided views on the {n}",
        "Petition in {p} calls for a review of the {n}",
    ],
}
KOREAN_KINDS = {
    "negotiation-opened": "협상 개시", "negotiation-round": "실무 협의", "signature": "서명",
    "cabinet-approval": "국무회의 의결", "head-of-state-approval": "대통령 재가",
    "legislative-consent": "국회 비준 동의",
    "legislative-hearing": "국회 공청회", "statement": "정부 입장 발표", "public-reaction": "시민단체 반대 집회",
    "entry-into-force": "발효", "notification-of-completion": "국내 절차 완료 통보", "termination-notice": "종료 통보",
    "renewal": "연장",
}  # fmt: skip
JAPANESE_KINDS = {
    "negotiation-opened": "交渉開始", "negotiation-round": "実務者協議", "signature": "署名",
    "cabinet-approval": "閣議決定",
    "legislative-consent": "国会承認", "legislative-hearing": "国会審議", "statement": "政府見解",
    "public-reaction": "抗議集会", "entry-into-force": "発効", "notification-of-completion": "国内手続き完了の通告",
    "renewal": "延長",
}  # fmt: skip
ARABIC_KINDS = {
    "negotiation-opened": "بدء المفاوضات", "negotiation-round": "جولة مفاوضات", "signature": "التوقيع",
    "cabinet-approval": "موافقة مجلس الوزراء", "legislative-consent": "مصادقة البرلمان", "statement": "بيان رسمي",
    "public-reaction": "ردود فعل شعبية", "entry-into-force": "دخول حيز التنفيذ", "ratification": "التصديق",
    "renewal": "التمديد",
}  # fmt: skip
BODIES = {
    "cabinet-approval": "Cabinet",
    "head-of-state-approval": "Office of the President",
    "legislative-hearing": "Defence Committee",
    "legislative-committee-report": "Foreign Affairs Committee",
    "legislative-vote": "Lower House",
    "legislative-consent": "Parliament",
    "legal-review": "Legislation Bureau",
    "statement": "Ministry of Defence",
}
VERSIONS = ("", "LEAD", "1st LD", "2nd LD", "3rd LD")

# Words for the codenames some summaries mention: a fixed list, drawn with Zipf
# weights, so that some words are common and many are rare at every scale.
CODENAME_PARTS = [
    "amber",
    "argent",
    "azure",
    "basalt",
    "boreal",
    "cedar",
    "cobalt",
    "coral",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "granite",
    "halcyon",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lantern",
    "marlin",
    "meridian",
    "nimbus",
    "onyx",
    "osprey",
    "pelican",
    "quartz",
    "raven",
    "sable",
    "sentinel",
    "sierra",
    "tundra",
    "umber",
    "vesper",
    "willow",
    "zephyr",
]
CODENAMES = [(a + b).capitalize() for a, b in itertools.permutations(CODENAME_PARTS, 2)]


# --- The demo's mix -------------------------------------------------------------------


def weights(counter, choices, floor=0.0):
    """Relative weights of `choices` in the order given, each at least `floor` of the total."""
    total = sum(counter.get(choice, 0) for choice in choices) or 1
    return [max(counter.get(choice, 0) / total, floor) for choice in choices]


@dataclass
class Mix:
    """Proportions counted in the demo data; statuses and kinds absent there get a small floor."""

    agreement_kinds: list
    legal_forms: list
    entry_into_force: list
    statuses: list
    confidences: list
    event_statuses: list
    joint_share: float
    precisions: list
    citation_counts: list
    filler_kinds: list
    reliabilities: list


# Kinds that never change the status or the notice: what fills a timeline between its steps.
FILLER_KINDS = tuple(
    kind
    for kind in vocabulary.EVENT_KINDS
    if kind not in vocabulary.STATUS_SET_BY and kind not in vocabulary.NOTICE_SET_BY
)
STATUSES = tuple(code for code, _ in vocabulary.AGREEMENT_STATUSES)
STATUS_LABELS = dict(vocabulary.AGREEMENT_STATUSES)
KIND_LABELS = dict(vocabulary.AGREEMENT_KINDS)
# Steps one party takes on its own: never in the joint lane.
PARTY_KINDS = frozenset(
    [kind for kind in vocabulary.EVENT_KINDS if vocabulary.KIND_GROUP[kind] in ("domestic", "legislative", "context")]
    + ["ratification", "notification-of-completion", "implementing-legislation", "official-publication"]
    + ["termination-decision", "termination-notice", "termination-notice-suspended", "termination-notice-withdrawn"]
    + ["suspension-of-operation", "negotiation-suspended"]
)


def demo_mix(path=DEMO_FILE):
    from collections import Counter

    document = json.loads(path.read_text(encoding="utf-8"))
    agreements = document["agreements"]
    events = [event for agreement in agreements for event in agreement["events"]]
    statuses = Counter()
    for agreement in agreements:
        steps = [
            Step(e["kind"], e["status"], Period.parse(e["date"]).start if e["date"] else None, i)
            for i, e in enumerate(agreement["events"])
        ]
        statuses[derive_status(steps, agreement["entry_into_force"])[0]] += 1
    return Mix(
        agreement_kinds=weights(Counter(a["kind"] for a in agreements), KIND_TEXTS, floor=0.03),
        legal_forms=weights(Counter(a["legal_form"] for a in agreements), LEGAL_FORMS, floor=0.03),
        entry_into_force=weights(Counter(a["entry_into_force"] for a in agreements), EIF_RULES, floor=0.05),
        statuses=weights(statuses, STATUSES, floor=0.03),
        confidences=weights(Counter(e["confidence"] for e in events), CONFIDENCES),
        event_statuses=weights(Counter(e["status"] for e in events), EVENT_STATUSES),
        joint_share=sum(e["lane"] == JOINT for e in events) / len(events),
        precisions=weights(Counter(PRECISION_OF_LENGTH[len(e["date"])] for e in events if e["date"]), PRECISIONS),
        citation_counts=weights(Counter(min(len(e["citations"]), 3) for e in events), (1, 2, 3)),
        filler_kinds=weights(Counter(e["kind"] for e in events), FILLER_KINDS, floor=0.01),
        reliabilities=weights(Counter(p["reliability"] for p in document["publishers"]), RELIABILITIES, floor=0.05),
    )


LEGAL_FORMS = tuple(code for code, _ in vocabulary.LEGAL_FORMS)
EIF_RULES = tuple(code for code, _ in vocabulary.ENTRY_INTO_FORCE_RULES)
CONFIDENCES = tuple(code for code, _ in vocabulary.CONFIDENCES)
EVENT_STATUSES = tuple(code for code, _ in vocabulary.EVENT_STATUSES)
PRECISIONS = (DAY, MONTH, YEAR)
PRECISION_OF_LENGTH = {10: DAY, 7: MONTH, 4: YEAR}
RELIABILITIES = ("high", "medium", "low", "unrated")

# The steps that take an agreement to each status, in order: "each:" repeats a step per
# party, "?" marks a step taken half the time.
PROCEDURE = {
    "proposed": [],
    "negotiating": ["negotiation-opened", "?negotiation-round"],
    "stalled": ["negotiation-opened", "?negotiation-round", "negotiation-suspended"],
    "initialled": ["?negotiation-opened", "?agreement-in-principle", "text-initialled"],
    "signed": ["?negotiation-opened", "?text-initialled", "?each:cabinet-approval", "signature"],
}
IN_FORCE = PROCEDURE["signed"] + ["?each:legislative-consent", "?each:notification-of-completion", "entry-into-force"]
PROCEDURE |= {
    "in-force": IN_FORCE,
    "suspended": IN_FORCE + ["suspension-of-operation"],
    "terminated": IN_FORCE + ["termination-notice", "termination"],
    "expired": IN_FORCE + ["renewal", "expiry"],
    "superseded": IN_FORCE + ["superseded"],
}
LANED_KINDS = frozenset(
    {"cabinet-approval", "legislative-consent", "notification-of-completion", "negotiation-suspended"}
    | {"termination-notice", "suspension-of-operation", "termination-notice-suspended"}
)


# --- COPY buffers ---------------------------------------------------------------------

NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
NULL = "\\N"


def copy_text(value):
    """Text as a field of COPY's text format (str.translate would be ten times slower on non-ASCII text)."""
    if NEEDS_ESCAPE.search(value) is None:
        return value
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# Columns written by the seed; the rest (row_version, creation_key) take their database defaults.
COLUMNS = {
    "pacts_agreement": (
        "id slug title short_name summary kind legal_form entry_into_force party_a_id party_b_id status notice "
        "revision changed_at latest_event_on created_at updated_at "
        "signed_on in_force_on party_a_approved_on party_b_approved_on"
    ),
    "pacts_alias": "id agreement_id title language note",
    "pacts_relation": "id agreement_id other_id relation",
    "pacts_source": (
        "id key publisher_id headline headline_key published published_on language kind dateline url version story "
        "created_at"
    ),
    "pacts_event": (
        "id agreement_id kind kind_position lane status date_start date_end date_precision not_after time "
        "confidence summary body actors notes resolves_id external_id created_at updated_at"
    ),
    "pacts_citation": "id source_id event_id agreement_id stance quote note",
}
TABLES = tuple(COLUMNS)


@dataclass
class Totals:
    agreements: int = 0
    events: int = 0
    sources: int = 0
    citations: int = 0
    aliases: int = 0
    relations: int = 0
    long_tail: int = 0
    statuses: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def __str__(self):
        counts = ", ".join(
            f"{getattr(self, name):,} {name.replace('_', ' ')}"
            for name in ("agreements", "events", "sources", "citations", "aliases", "relations", "long_tail")
        )
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.seconds.items())
        return f"{counts}; {phases}"


# --- Generation -----------------------------------------------------------------------


@dataclass
class PlannedEvent:
    id: int
    kind: str
    lane: str
    status: str
    period: Period | None
    confidence: str = "high"
    resolves_id: int | None = None
    not_after: date | None = None


class SyntheticWorld:
    """Draws agreements with their events, sources and citations, and writes them as COPY rows."""

    def __init__(self, rng, today, events_per_agreement, agreements, first_ids, mix=None):
        self.rng = rng
        self.today = today
        self.mix = mix or demo_mix()
        self.ids = dict(first_ids)
        self.buffers = {table: io.StringIO() for table in TABLES}
        self.totals = Totals()
        self.parties = sorted(code for code, _ in countries)
        known = set(self.parties)
        self.regions = {name: [c for c in codes.split() if c in known] for name, codes in REGIONS.items()}
        self.region_of = {code: name for name, codes in self.regions.items() for code in codes}
        self.regional = sorted(self.region_of)
        self.majors = [c for c in MAJOR_PARTNERS if c in known]
        self.major_weights = list(itertools.accumulate(MAJOR_PARTNERS[c] for c in self.majors))
        self.codename_weights = list(itertools.accumulate(1 / rank for rank in range(1, len(CODENAMES) + 1)))
        self.previous_of_pair = {}
        self.unlinked = set()
        self.counts = self.event_counts(agreements, events_per_agreement)
        self.days = (today - date(FIRST_YEAR, 1, 1)).days

    # Event counts --------------------------------------------------------------

    def event_counts(self, agreements, mean):
        """Exactly round(1% of N) agreements with 500–2,000 events; the others around the mean left."""
        low, high = LONG_TAIL_EVENTS
        share = LONG_TAIL_SHARE
        if mean < share * (low + high) / 2 + (1 - share) * SMALLEST_ORDINARY_MEAN:
            share = max(0.0, (mean - SMALLEST_ORDINARY_MEAN) / ((low + high) / 2 - SMALLEST_ORDINARY_MEAN))
        long_tail = sorted(self.rng.sample(range(agreements), round(agreements * share)))
        counts = dict.fromkeys(range(agreements), 0)
        for number in long_tail:
            counts[number] = self.rng.randint(low, high)
        ordinary = agreements - len(long_tail)
        ordinary_mean = max(1.0, (mean * agreements - sum(counts.values())) / ordinary) if ordinary else 1.0
        for number in range(agreements):
            if not counts[number]:
                counts[number] = max(1, round(self.rng.gammavariate(2.0, ordinary_mean / 2)))
        self.totals.long_tail = len(long_tail)
        return counts

    # Small draws ---------------------------------------------------------------

    def choose(self, choices, weights):
        return self.rng.choices(choices, weights)[0]

    def next_id(self, table):
        self.ids[table] += 1
        return self.ids[table] - 1

    def pair(self):
        rng = self.rng
        a = self.major() if rng.random() < 0.55 else rng.choice(self.regional)
        while True:
            draw = rng.random()
            if draw < 0.5 and a in self.region_of:
                b = rng.choice(self.regions[self.region_of[a]])
            elif draw < 0.85:
                b = self.major()
            else:
                b = rng.choice(self.parties if rng.random() < 0.2 else self.regional)
            if b != a:
                return a, b

    def major(self):
        return self.majors[bisect.bisect(self.major_weights, self.rng.random() * self.major_weights[-1])]

    def codename(self):
        total = self.codename_weights[-1]
        return CODENAMES[min(bisect.bisect(self.codename_weights, self.rng.random() * total), len(CODENAMES) - 1)]

    def day_after(self, start, low, high):
        return start + timedelta(days=self.rng.randint(low, high))

    def period(self, day, precision):
        if precision == YEAR:
            return Period(day.replace(month=1, day=1), YEAR)
        if precision == MONTH:
            return Period(day.replace(day=1), MONTH)
        return Period(day, DAY)

    # One agreement -------------------------------------------------------------

    def agreement(self, number):
        rng, mix = self.rng, self.mix
        agreement_id = self.next_id("pacts_agreement")
        a, b = self.pair()
        kind = self.choose(list(KIND_TEXTS), mix.agreement_kinds)
        subject, abbreviation, *_ = KIND_TEXTS[kind]
        pair_key = (a, b, kind)
        short_name = f"{short_name_of(a)}–{short_name_of(b)} {abbreviation}"
        if pair_key in self.previous_of_pair:
            short_name += f" ({agreement_id})"
        entry_into_force = self.choose(EIF_RULES, mix.entry_into_force)
        target = self.choose(STATUSES, mix.statuses)
        # More agreements in recent decades.
        opened = date(FIRST_YEAR, 1, 1) + timedelta(days=int(self.days * rng.random() ** 0.6))
        events = self.plan_events(agreement_id, a, b, target, opened, self.counts[number], entry_into_force)
        status, notice = derive_status(
            [Step(e.kind, e.status, e.period.start if e.period else None, e.id) for e in events], entry_into_force
        )
        latest = max((e.period.start for e in events if e.period), default=None)
        # The step dates Agreement.store_status would store (pacts.durations).
        step_days = step_dates(
            (
                (e.kind, e.status, e.lane, e.period.start if e.period else None, e.period.precision if e.period else "")
                for e in events
            ),
            a,
            b,
        )
        self.totals.statuses[status] = self.totals.statuses.get(status, 0) + 1

        names = {a: country_name(a), b: country_name(b), JOINT: "Both sides"}
        codename = self.codename() if rng.random() < CODENAME_SHARE else None
        title = f"Agreement between the Government of {names[a]} and the Government of {names[b]} on {subject}"
        summary = self.summary(names[a], names[b], kind, events, status, codename)
        slug = f"{a.lower()}-{b.lower()}-{abbreviation.lower().replace(' ', '-')}-{agreement_id}"
        changed = stamp(min(max(latest or opened, opened), self.today), 43200)
        created = stamp(opened, 43200)
        self.write(
            "pacts_agreement",
            agreement_id,
            slug,
            copy_text(title),
            copy_text(short_name),
            copy_text(summary),
            kind,
            self.choose(LEGAL_FORMS, mix.legal_forms),
            entry_into_force,
            a,
            b,
            status,
            notice,
            1,
            changed,
            latest.isoformat() if latest else NULL,
            created,
            changed,
            *(day.isoformat() if day else NULL for day in step_days),
        )
        aliases = self.aliases(agreement_id, a, b, kind)
        pool = []
        context = {
            "a": names[a],
            "b": names[b],
            "n": short_name,
            "city": CAPITALS.get(a) or CAPITALS.get(b) or names[a],
        }
        for event in events:
            self.write_event(agreement_id, event, names, context, aliases, pool)
        for _, source_id in rng.sample(pool, min(len(pool), rng.randint(1, 2))):
            self.write_citation(source_id, NULL, agreement_id, f"The {short_name} is described in this report.")
        if pair_key in self.previous_of_pair and rng.random() < 0.5:
            relation = rng.choice(("supersedes", "negotiated-with", "amends"))
            self.write(
                "pacts_relation",
                self.next_id("pacts_relation"),
                agreement_id,
                self.previous_of_pair[pair_key],
                relation,
            )
            self.totals.relations += 1
        self.previous_of_pair[pair_key] = agreement_id
        self.totals.agreements += 1
        self.totals.events += len(events)

    def plan_events(self, agreement_id, a, b, target, opened, count, entry_into_force):
        """The steps towards `target`, then commentary and procedure filling the count; ids assigned."""
        rng, mix, today = self.rng, self.mix, self.today
        steps = []
        for step in PROCEDURE[target]:
            if step.startswith("?"):
                if rng.random() < 0.5:
                    continue
                step = step[1:]
            if step.startswith("each:"):
                steps += [(step[5:], a), (step[5:], b)]
            elif step in LANED_KINDS:
                steps.append((step, rng.choice((a, b))))
            else:
                steps.append((step, JOINT))
        if entry_into_force == vocabulary.ON_SIGNATURE:
            steps = [s for s in steps if s[0] not in ("entry-into-force", "notification-of-completion")]
        # Too few events for every step: the last ones, which set the status, are what is known.
        steps = steps[-count:]
        planned, day = [], opened
        for kind, lane in steps:
            day = self.day_after(day, 20, 300)
            precision = DAY if rng.random() < 0.85 else MONTH
            period = self.period(day, precision)
            if planned and planned[-1].period and period.start < planned[-1].period.start:
                period = Period(day, DAY)
            if day > today:
                # Not there yet: what is planned is expected, some of it overdue already.
                planned.append(PlannedEvent(0, kind, lane, "expected", period, self.confidence()))
                break
            if kind == "signature" and rng.random() < 0.1:
                # A signing that was put off first, settled by the real one.
                put_off = self.period(day - timedelta(days=rng.randint(20, 200)), MONTH)
                planned.append(PlannedEvent(0, kind, lane, rng.choice(("postponed", "cancelled")), put_off, "high"))
            planned.append(PlannedEvent(0, kind, lane, "occurred", period, self.confidence()))
        end = planned[-1].period.start if planned and target in ("terminated", "expired", "superseded") else today
        span = max((end - opened).days, 1)
        for _ in range(max(0, count - len(planned))):
            kind = self.choose(FILLER_KINDS, mix.filler_kinds)
            lane = rng.choice((a, b)) if kind in PARTY_KINDS or rng.random() < 0.2 else JOINT
            status = self.choose(EVENT_STATUSES, mix.event_statuses)
            if rng.random() < UNKNOWN_DATE_SHARE:
                period = None
            else:
                day = opened + timedelta(days=rng.randint(0, span))
                if status != "occurred" and rng.random() < 0.5:
                    day = today + timedelta(days=rng.randint(-60, 400))
                period = self.period(min(day, today) if status == "occurred" else day, self.precision())
            planned.append(PlannedEvent(0, kind, lane, status, period, self.confidence()))
        for event in planned:
            event.id = self.next_id("pacts_event")
            if event.status == "expected" and event.period and rng.random() < 0.3:
                event.not_after = event.period.end + timedelta(days=7)
        self.settle(planned)
        return planned

    def settle(self, planned):
        """Let later occurred events of the same kind resolve earlier unsettled ones (never in a cycle)."""
        open_by_kind = {}
        for event in planned:
            if event.status in vocabulary.RESOLVABLE_STATUSES and event.period:
                open_by_kind.setdefault(event.kind, []).append(event)
            elif event.status == "occurred" and event.period and open_by_kind.get(event.kind):
                candidate = open_by_kind[event.kind][0]
                if candidate.period.start <= event.period.start and candidate.id < event.id:
                    event.resolves_id = candidate.id
                    open_by_kind[event.kind].pop(0)

    def confidence(self):
        return self.choose(CONFIDENCES, self.mix.confidences)

    def precision(self):
        return self.choose(PRECISIONS, self.mix.precisions)

    def summary(self, name_a, name_b, kind, events, status, codename):
        first = next((e for e in events if e.period and e.kind == "negotiation-opened"), None)
        label = KIND_LABELS[kind].lower()
        text = f"A {label} agreement on defence between {name_a} and {name_b}."
        if first:
            text += f" Talks opened in {first.period.start.year}."
        signed = next((e for e in events if e.kind == "signature" and e.status == "occurred" and e.period), None)
        if signed:
            text += f" Signed in {signed.period.display()}."
        text += f" Now {STATUS_LABELS[status].lower()}."
        if codename:
            text += f" Known in the talks as {codename}."
        return text

    def aliases(self, agreement_id, a, b, kind):
        """Korean, Japanese and Arabic names where a party speaks them (and now and then elsewhere)."""
        _, _, korean, japanese, arabic = KIND_TEXTS[kind]
        rng = self.rng
        names = {}
        if "KR" in (a, b) or "KP" in (a, b) or rng.random() < 0.02:
            names["ko"] = f"{korean_name(a)}·{korean_name(b)} {korean}"
        if "JP" in (a, b) or rng.random() < 0.02:
            names["ja"] = f"{japanese_name(a)}・{japanese_name(b)}{japanese}"
        if a in ARAB_STATES or b in ARAB_STATES or rng.random() < 0.01:
            names["ar"] = f"{arabic} بين {arabic_name(a)} و{arabic_name(b)}"
        if rng.random() < 0.1:
            names["en"] = f"{short_name_of(a)}-{short_name_of(b)} {KIND_TEXTS[kind][1]} ({agreement_id})"
        for language, title in names.items():
            note = "common name" if language != "en" else "name used in news reports"
            self.write("pacts_alias", self.next_id("pacts_alias"), agreement_id, copy_text(title), language, note)
            self.totals.aliases += 1
        return names

    def event_text(self, event, names, context, aliases):
        """The summary, and its language: Korean, Japanese or Arabic for some events in those lanes."""
        rng = self.rng
        lane = event.lane
        for language, words, states in (
            ("ko", KOREAN_KINDS, ("KR",)),
            ("ja", JAPANESE_KINDS, ("JP",)),
            ("ar", ARABIC_KINDS, ARAB_STATES),
        ):
            if lane in states and language in aliases and event.kind in words and rng.random() < 0.3:
                return f"{aliases[language]} {words[event.kind]}", language
        template = rng.choice(EVENT_TEXTS[event.kind])
        text = template.format(p=names[lane], k=rng.randint(1, 12), **context)
        return text[0].upper() + text[1:], "en"

    def write_event(self, agreement_id, event, names, context, aliases, pool):
        rng = self.rng
        summary, language = self.event_text(event, names, context, aliases)
        period = event.period
        at = NULL
        if period and period.precision == DAY and rng.random() < 0.1:
            at = f"{rng.randint(8, 19):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        actors = "[]"
        if event.lane != JOINT and rng.random() < 0.2:
            actors = json.dumps([f"Defence minister of {names[event.lane]}"], ensure_ascii=False)
        notes = f"Reported first by the press of {names[event.lane]}." if rng.random() < 0.1 else ""
        recorded = self.recorded(period)
        self.write(
            "pacts_event",
            event.id,
            agreement_id,
            event.kind,
            KIND_POSITION[event.kind],
            event.lane,
            event.status,
            period.start.isoformat() if period else NULL,
            period.end.isoformat() if period else NULL,
            period.precision if period else "",
            event.not_after.isoformat() if event.not_after else NULL,
            at,
            event.confidence,
            copy_text(summary),
            BODIES.get(event.kind, ""),
            copy_text(actors),
            copy_text(notes),
            event.resolves_id if event.resolves_id else NULL,
            f"{event.kind}-{event.id}",
            recorded,
            recorded,
        )
        cited = set()
        for _ in range(self.choose((1, 2, 3), self.mix.citation_counts)):
            reports = [source_id for source_id in self.reporting(pool, period) if source_id not in cited]
            if reports and rng.random() > NEW_SOURCE_SHARE:
                source_id = rng.choice(reports)
            else:
                source_id = self.write_sources(event, summary, language, names, pool)
            cited.add(source_id)
            self.write_citation(source_id, event.id, NULL, summary)

    def reporting(self, pool, period):
        """The agreement's latest reports that could also cover an event of `period`: out within a month of it.

        Any of them for an event of unknown date. (Drawing from every report of the
        agreement had 2025 events first reported in 1974.)
        """
        latest = pool[-REUSED_AMONG:]
        if period is None:
            return [source_id for _, source_id in latest]
        return [source_id for published, source_id in latest if abs((published - period.start).days) <= REUSE_DAYS]

    def recorded(self, period):
        """When the event was entered: a few days after it happened, never after today."""
        if period is None or period.start > self.today:
            day = self.today - timedelta(days=self.rng.randint(0, 365))
        else:
            day = min(self.today, period.start + timedelta(days=self.rng.randint(0, 30)))
        return stamp(day, self.rng.randint(0, 86399))

    def write_citation(self, source_id, event_id, agreement_id, text):
        rng = self.rng
        contradicts = rng.random() < CONTRADICTING_SHARE
        quote = f"Officials denied the report that {text[0].lower()}{text[1:]}." if contradicts else f"{text}."
        note = "gives a different date" if contradicts else ""
        self.write(
            "pacts_citation",
            self.next_id("pacts_citation"),
            source_id,
            event_id,
            agreement_id,
            "contradicts" if contradicts else "supports",
            copy_text(quote[:500]),
            note,
        )
        self.totals.citations += 1

    def write_sources(self, event, summary, language, names, pool):
        """A new report of this event (a wire story comes in several versions); returns the id cited."""
        rng = self.rng
        publisher = self.publisher_for(event.lane, language, names)
        if event.period and event.period.start <= self.today:
            published = min(self.today, self.day_after(event.period.start, 0, 10))
        else:
            published = self.today - timedelta(days=rng.randint(0, 400))
        versions = VERSIONS[: rng.randint(2, 4)] if publisher.wire and rng.random() < STORY_SHARE else ("",)
        story = f"{publisher.slug}-{published.isoformat()}-{self.ids['pacts_source']}" if len(versions) > 1 else ""
        headline = (
            summary if language != "en" else rng.choice(("{}", "{}: officials", "{}, reports say")).format(summary)
        )
        for version in versions:
            source_id = self.next_id("pacts_source")
            key = f"{publisher.slug}-{published.isoformat()}-{source_id}"
            shown = f"({version}) {headline}" if version else headline
            url = f"{publisher.website}/{published.year}/{published.month:02d}/{key}" if publisher.website else NULL
            if url == NULL:
                # Without a URL the natural key must be unique: the same headline on the same day gets its id.
                natural_key = (publisher.id, normalise_headline(shown), published, version)
                if natural_key in self.unlinked:
                    shown = f"{shown} ({source_id})"
                self.unlinked.add(natural_key)
            self.write(
                "pacts_source",
                source_id,
                key,
                publisher.id,
                copy_text(shown),
                copy_text(normalise_headline(shown)),
                published.isoformat(),
                published.isoformat(),
                language,
                publisher.kind,
                publisher.dateline,
                url,
                version,
                story,
                stamp(published, rng.randint(0, 86399)),
            )
            self.totals.sources += 1
            pool.append((published, source_id))
        return source_id  # the latest version

    # Publishers ----------------------------------------------------------------

    def publishers(self):
        """Per state in the regions, a news agency, a newspaper and the two ministries; and some wires."""
        rng, mix = self.rng, self.mix
        drawn = []
        for code in self.regional:
            name = country_name(code)
            slug = code.lower()
            drawn += [
                PublisherPlan(f"{name} News Agency", code, f"{slug}-agency", "news", wire=True),
                PublisherPlan(f"The {name} Herald", code, f"{slug}-herald", "news"),
                PublisherPlan(f"Ministry of Defence of {name}", code, f"{slug}-mod", "official-statement"),
                PublisherPlan(f"Ministry of Foreign Affairs of {name}", code, f"{slug}-mofa", "official-record"),
            ]
        drawn += [
            PublisherPlan(f"{n} Wire", "", n.lower(), "news", wire=True) for n in ("Global", "Pacific", "Atlantic")
        ]
        for publisher in drawn:
            publisher.reliability = (
                "high" if publisher.kind != "news" else self.choose(RELIABILITIES, mix.reliabilities)
            )
            publisher.website = f"https://{publisher.slug}.example" if rng.random() < 0.95 else ""
            publisher.dateline = CAPITALS.get(publisher.country, "").upper() if publisher.wire else ""
        self.publisher_plans = drawn
        self.publishers_by_country = {}
        for publisher in drawn:
            self.publishers_by_country.setdefault(publisher.country, []).append(publisher)
        return drawn

    def publisher_for(self, lane, language, names):
        """A publisher of the lane's state (either party's for the joint lane), or an international wire."""
        rng = self.rng
        if language != "en":
            return rng.choice([p for p in self.publishers_by_country[lane] if p.kind == "news"])
        if lane == JOINT:
            lane = rng.choice([code for code in names if code != JOINT])
        if rng.random() < 0.2:
            lane = ""
        return rng.choice(self.publishers_by_country.get(lane) or self.publishers_by_country[""])

    # Rows ----------------------------------------------------------------------

    def write(self, table, *values):
        self.buffers[table].write("\t".join(map(str, values)) + "\n")

    def take_batch(self):
        """The rows written since the last batch, and fresh buffers for the next."""
        batch, self.buffers = self.buffers, {table: io.StringIO() for table in TABLES}
        return batch


class BatchWriter(threading.Thread):
    """COPYs each batch and computes its agreements' search documents while the next batch is generated.

    Generation is Python and the search documents are PostgreSQL: on two cores they
    overlap. The thread uses the same database connection and transaction (psycopg2
    connections may be shared between threads; the main thread does not use it until
    `finish`).
    """

    def __init__(self, raw_connection):
        super().__init__(daemon=True)
        self.raw_connection = raw_connection
        self.batches = queue.Queue(maxsize=2)
        self.error = None
        self.written = 0

    def put(self, batch, agreement_ids):
        if self.error:
            raise self.error
        self.batches.put((batch, agreement_ids))

    def finish(self):
        self.batches.put(None)
        self.join()
        if self.error:
            raise self.error

    def run(self):
        try:
            with self.raw_connection.cursor() as cursor:
                while (item := self.batches.get()) is not None:
                    self.write(cursor, *item)
        except Exception as error:  # handed to the main thread by put() and finish()
            self.error = error
            while self.batches.get() is not None:
                pass

    def write(self, cursor, batch, agreement_ids):
        for table in TABLES:
            buffer = batch[table]
            if buffer.tell():
                buffer.seek(0)
                cursor.copy_expert(f"COPY {table} ({', '.join(COLUMNS[table].split())}) FROM STDIN", buffer)
        self.written += 1
        if self.written in (1, 4, 16, 64, 256):
            # The search function's lookups need statistics on tables that were empty.
            cursor.execute("ANALYZE pacts_event, pacts_citation, pacts_alias, pacts_source")
        cursor.execute(
            "UPDATE pacts_agreement SET search_document = pacts_search_document(id) WHERE id BETWEEN %s AND %s",
            agreement_ids,
        )


@dataclass
class PublisherPlan:
    name: str
    country: str
    slug: str
    kind: str
    wire: bool = False
    reliability: str = "unrated"
    website: str = ""
    dateline: str = ""
    id: int = 0


def country_name(code):
    return countries.name(code) or code


def short_name_of(code):
    return SHORT_NAMES.get(code) or country_name(code)


def korean_name(code):
    return KOREAN_NAMES.get(code) or short_name_of(code)


def japanese_name(code):
    return JAPANESE_NAMES.get(code) or short_name_of(code)


def arabic_name(code):
    return ARABIC_NAMES.get(code) or short_name_of(code)


def stamp(day, seconds):
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat()


# --- Loading --------------------------------------------------------------------------

BATCH = 500


# Raise with every change to what a seed generates, so that databases seeded before are known stale.
VERSION = 3


def fingerprint():
    """The generator's version and the demo mix it draws from, as a short text."""
    return f"{VERSION}-{hashlib.sha256(DEMO_FILE.read_bytes()).hexdigest()[:8]}"


def is_empty():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pacts_agreement) OR EXISTS (SELECT 1 FROM pacts_source)"
            " OR EXISTS (SELECT 1 FROM pacts_publisher)"
        )
        return not cursor.fetchone()[0]


def seed(*, agreements, events_per_agreement, seed, today, progress=None):
    """Load synthetic data into the PostgreSQL database, in one transaction; return the Totals.

    `progress(done, total, phase)` is called after each batch and phase.
    """
    if connection.vendor != "postgresql":
        raise RuntimeError("seeding loads with PostgreSQL COPY; SQLite is not supported")
    progress = progress or (lambda done, total, phase: None)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        empty = is_empty()
        first_ids = {}
        for table in TABLES:
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608 (fixed names)
            first_ids[table] = cursor.fetchone()[0]
        world = SyntheticWorld(random.Random(seed), today, events_per_agreement, agreements, first_ids)
        write_publishers(cursor, world.publishers())
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        bypass_triggers = cursor.fetchone()[0]
        if bypass_triggers:
            cursor.execute("SET LOCAL session_replication_role = replica")
        dropped = drop_secondary_indexes(cursor) if empty else []
        world.totals.seconds["setup"] = time.monotonic() - started

        phase_started = time.monotonic()
        writer = BatchWriter(connection.connection)
        writer.start()
        batch_start = first_ids["pacts_agreement"]
        for number in range(agreements):
            world.agreement(number)
            if (number + 1) % BATCH == 0 or number + 1 == agreements:
                writer.put(world.take_batch(), (batch_start, world.ids["pacts_agreement"] - 1))
                batch_start = world.ids["pacts_agreement"]
                progress(number + 1, agreements, "agreements")
        writer.finish()
        world.totals.seconds["generate, copy and search documents"] = time.monotonic() - phase_started

        phase_started = time.monotonic()
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest(max(id), 1)) FROM {table}"  # noqa: S608
            )
        if bypass_triggers:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        # Deferred foreign-key checks still pending would stop CREATE INDEX on their table.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        recreate_indexes(cursor, dropped)
        world.totals.seconds["indexes"] = time.monotonic() - phase_started
        progress(agreements, agreements, "indexes")

        phase_started = time.monotonic()
        if bypass_triggers:
            check_rules(cursor, first_ids)
        world.totals.seconds["checks"] = time.monotonic() - phase_started
        progress(agreements, agreements, "checks")
    phase_started = time.monotonic()
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        else:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
    world.totals.seconds["analyze"] = time.monotonic() - phase_started
    world.totals.seconds["total"] = time.monotonic() - started
    return world.totals


def write_publishers(cursor, publishers):
    """Insert the publishers that are not there yet (by name) and give each plan its id."""
    for publisher in publishers:
        cursor.execute(
            "INSERT INTO pacts_publisher (name, country, website, reliability) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO NOTHING",
            [publisher.name, publisher.country, publisher.website, publisher.reliability],
        )
    cursor.execute("SELECT name, id FROM pacts_publisher WHERE name = ANY(%s)", [[p.name for p in publishers]])
    ids = dict(cursor.fetchall())
    for publisher in publishers:
        publisher.id = ids[publisher.name]


def drop_secondary_indexes(cursor):
    """Drop the loaded tables' indexes that back no constraint; return (table, definition) to recreate.

    The citations' indexes by event and by agreement stay: the search documents,
    computed batch by batch during the load, look citations up by them (events and
    aliases are found by the unique constraints on (agreement, id) and (agreement, title, language)).
    """
    cursor.execute(
        """
        SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
          AND NOT (i.tablename = 'pacts_citation' AND i.indexdef ~ 'btree \\((event_id|agreement_id)\\)$')
        ORDER BY i.tablename, i.indexname
        """,
        [list(TABLES)],
    )
    dropped = cursor.fetchall()
    for _, name, _ in dropped:
        cursor.execute(f'DROP INDEX "{name}"')
    return [(table, definition) for table, _, definition in dropped]


def recreate_indexes(cursor, dropped):
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in dropped:
        cursor.execute(definition)


RULE_CHECKS = {
    "event lane is joint or a party": """
        SELECT count(*) FROM pacts_event e JOIN pacts_agreement a ON a.id = e.agreement_id
        WHERE e.id >= %(event)s AND e.lane <> 'joint' AND e.lane NOT IN (a.party_a_id, a.party_b_id)""",
    "resolves an unsettled event of the same agreement, earlier in id order (so no cycle)": """
        SELECT count(*) FROM pacts_event e LEFT JOIN pacts_event t ON t.id = e.resolves_id
        WHERE e.id >= %(event)s AND e.resolves_id IS NOT NULL
          AND (t.id IS NULL OR t.agreement_id <> e.agreement_id OR t.status = 'occurred' OR t.id >= e.id)""",
    "event's agreement exists": """
        SELECT count(*) FROM pacts_event e WHERE e.id >= %(event)s
          AND NOT EXISTS (SELECT 1 FROM pacts_agreement a WHERE a.id = e.agreement_id)""",
    "citation's source, event and agreement exist": """
        SELECT count(*) FROM pacts_citation c WHERE c.id >= %(citation)s AND (
          NOT EXISTS (SELECT 1 FROM pacts_source s WHERE s.id = c.source_id)
          OR (c.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pacts_event e WHERE e.id = c.event_id))
          OR (c.agreement_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM pacts_agreement a WHERE a.id = c.agreement_id)))""",
    "source's publisher exists": """
        SELECT count(*) FROM pacts_source s WHERE s.id >= %(source)s
          AND NOT EXISTS (SELECT 1 FROM pacts_publisher p WHERE p.id = s.publisher_id)""",
    "alias's agreement exists": """
        SELECT count(*) FROM pacts_alias l WHERE l.id >= %(alias)s
          AND NOT EXISTS (SELECT 1 FROM pacts_agreement a WHERE a.id = l.agreement_id)""",
    "relation's agreements exist": """
        SELECT count(*) FROM pacts_relation r WHERE r.id >= %(relation)s AND (
          NOT EXISTS (SELECT 1 FROM pacts_agreement a WHERE a.id = r.agreement_id)
          OR NOT EXISTS (SELECT 1 FROM pacts_agreement a WHERE a.id = r.other_id))""",
    "agreement's parties exist": """
        SELECT count(*) FROM pacts_agreement a WHERE a.id >= %(agreement)s AND (
          NOT EXISTS (SELECT 1 FROM pacts_party p WHERE p.code = a.party_a_id)
          OR NOT EXISTS (SELECT 1 FROM pacts_party p WHERE p.code = a.party_b_id))""",
}


def check_rules(cursor, first_ids):
    """The rules the bypassed triggers enforce, checked over the loaded rows at once."""
    parameters = {table.removeprefix("pacts_"): first_id for table, first_id in first_ids.items()}
    for rule, sql in RULE_CHECKS.items():
        cursor.execute(sql, parameters)
        if broken := cursor.fetchone()[0]:
            raise RuntimeError(f"{broken} seeded rows break the rule: {rule}")
