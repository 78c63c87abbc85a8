"""The detection pipeline as SQL, written once for DuckDB and Spark SQL.

Pure string building, no I/O: an engine executes these statements in order. The
two dialects differ only in function names, lambdas, list literals and string
escaping, which :class:`Dialect` hides, so both engines run the *same* plan and
their edges can be compared exactly.

The windowed self-join never compares all pairs of an object's messages. Each keyed
message gets a time bucket ``floor(ts / window)``; a match within ``window`` seconds
can only lie in the same or an adjacent bucket, so the join is an equi-join on
``(object, bucket)`` against messages replicated into the three neighbouring
buckets, followed by the exact ``|t1 - t2| <= window`` filter.
"""

# ruff: noqa: S608  (SQL is built from fixed fragments, numbers and escaped literals only)

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kith.integrity.networks import DetectConfig, KeyKind, Network
from kith.integrity.schema import MAX_ABS_EPOCH_SECONDS, Reject

# Whitespace exactly as coordination-network-toolkit sees it, so normalised text
# matches the toolkit's: its mention remover uses the `regex` module's \s (Unicode
# White_Space), its collapsing uses Python's str.split() (which adds U+001C..U+001F).
# RE2 (DuckDB) and Java (Spark) both read \x{...}; their own \s is ASCII-only.
_NOT_SPACE_WHITE = (
    r"\x{9}-\x{D}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}"
    r"\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
)
_WHITE_SPACE = _NOT_SPACE_WHITE + r"\x{20}"
_SPLIT_CHARS = _NOT_SPACE_WHITE + r"\x{1C}-\x{1F}"
MENTION_PATTERN = "@[^" + _WHITE_SPACE + "]*"
# What str.split() + " ".join() changes: a run of two or more separators, or one that
# is not a plain space. Replacing exactly these by " " collapses like `[sep]+` does,
# without rewriting every single space (which made the regex 3x slower on tweets).
SPLIT_PATTERN = "[" + _SPLIT_CHARS + r"\x{20}]{2,}|[" + _SPLIT_CHARS + "]"
# A word for co_similar_tweet: letters, combining marks, digits, underscore, in any script.
WORD_PATTERN = r"[\pL\pM\pN_]+"
# MinHash works modulo a Mersenne prime so a*h+b stays inside signed 64 bits.
MINHASH_PRIME = 2_147_483_647
_MINHASH_MULTIPLIER = 48_271  # seeds the per-hash (a, b) with a fixed LCG: reproducible


class ColumnKind(StrEnum):
    STRING = "string"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    LIST = "list"


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def spark(self) -> bool:
        return self.name == "spark"

    def ident(self, name: str) -> str:
        if self.spark:
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def string(self, value: str) -> str:
        if self.spark:  # Spark SQL literals process backslash escapes
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    def object_number(self, alias: str) -> str:
        """The number of a row of table ``objects``: DuckDB's own ``rowid`` (free, and
        no window over millions of objects, which would not spill); Spark's ``oid``
        column, numbered in the objects' order so a recomputed cached table numbers
        its rows the same way again."""
        return f"{alias}.oid" if self.spark else f"{alias}.rowid"

    def lam(self, var: str, body: str) -> str:
        return f"{var} -> {body}" if self.spark else f"lambda {var}: {body}"

    def transform(self, xs: str, var: str, body: str) -> str:
        fn = "transform" if self.spark else "list_transform"
        return f"{fn}({xs}, {self.lam(var, body)})"

    def filter(self, xs: str, var: str, body: str) -> str:
        fn = "filter" if self.spark else "list_filter"
        return f"{fn}({xs}, {self.lam(var, body)})"

    def distinct(self, xs: str) -> str:
        return f"array_distinct({xs})" if self.spark else f"list_distinct({xs})"

    def size(self, xs: str) -> str:
        return f"size({xs})" if self.spark else f"len({xs})"

    def list_min(self, xs: str) -> str:
        return f"array_min({xs})" if self.spark else f"list_min({xs})"

    def array(self, items: list[str]) -> str:
        return ("array(" + ", ".join(items) + ")") if self.spark else "[" + ", ".join(items) + "]"

    def unnest(self, xs: str) -> str:
        return f"explode({xs})" if self.spark else f"unnest({xs})"

    def replace_all(self, value: str, pattern: str, by: str) -> str:
        flags = "" if self.spark else ", 'g'"
        return f"regexp_replace({value}, {self.string(pattern)}, {self.string(by)}{flags})"

    def extract_all(self, value: str, pattern: str) -> str:
        group = ", 0" if self.spark else ""
        return f"regexp_extract_all({value}, {self.string(pattern)}{group})"

    def ltrim(self, value: str, chars: str) -> str:
        """``value`` without leading ``chars`` (Spark takes the characters first)."""
        if self.spark:
            return f"ltrim({self.string(chars)}, {value})"
        return f"ltrim({value}, {self.string(chars)})"

    def trim_spaces(self, value: str) -> str:
        """Leading and trailing U+0020 only (DuckDB's one-argument trim takes more)."""
        return f"trim({value})" if self.spark else f"trim({value}, ' ')"

    def split_spaces(self, value: str) -> str:
        return f"split({value}, ' ')" if self.spark else f"string_split({value}, ' ')"

    def intersect_size(self, a: str, b: str) -> str:
        fn = "array_intersect" if self.spark else "list_intersect"
        return self.size(f"{fn}({a}, {b})")

    def union_size(self, a: str, b: str) -> str:
        if self.spark:
            return f"size(array_union({a}, {b}))"
        return f"len(list_distinct(list_concat({a}, {b})))"

    def token_hash(self, value: str) -> str:
        # Engine-native 64-bit string hashes; only the candidate step uses them, and
        # every candidate is then checked exactly.
        if self.spark:
            return f"pmod(xxhash64({value}), {MINHASH_PRIME})"
        return f"CAST(hash({value}) % {MINHASH_PRIME} AS BIGINT)"

    def epoch_seconds_of_timestamp(self, value: str) -> str:
        if self.spark:
            return f"unix_micros(CAST({value} AS TIMESTAMP)) / 1e6"
        return f"epoch_us({value}) / 1e6"

    def epoch_seconds_of_text(self, value: str) -> str:
        if self.spark:
            return (
                f"coalesce(try_cast({value} AS DOUBLE), "
                f"unix_micros(try_to_timestamp({value})) / 1e6)"
            )
        return (
            f"coalesce(try_cast({value} AS DOUBLE), "
            f"epoch_us(try_cast({value} AS TIMESTAMPTZ)) / 1e6)"
        )

    @property
    def text_type(self) -> str:
        return "STRING" if self.spark else "VARCHAR"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


def normalised_text(d: Dialect, value: str) -> str:
    """The toolkit's message_preprocessor: lower-case, drop @mentions, collapse spaces
    (then :func:`trimmed`).

    Most texts have no '@', and a substring test is far cheaper than the regex. After
    the whitespace regex only a single space can lie at either end; most texts have
    none, and a prefix test is far cheaper than a trim (which copies every text)."""
    lowered = f"lower({value})"
    no_mentions = (
        f"CASE WHEN instr({value}, '@') > 0 "
        f"THEN {d.replace_all(lowered, MENTION_PATTERN, '')} ELSE {lowered} END"
    )
    return d.replace_all(no_mentions, SPLIT_PATTERN, " ")


def trimmed(d: Dialect, value: str) -> str:
    """``value`` (a column: it is read three times) without a leading or trailing space."""
    edged = f"{value} LIKE ' %' OR {value} LIKE '% '"
    return f"CASE WHEN {edged} THEN {d.trim_spaces(value)} ELSE {value} END"


def _list_values(d: Dialect, source: str, kind: ColumnKind, mapped: str | None = None) -> str:
    """The distinct non-empty values of one message's list column, each first mapped
    by ``mapped`` (an expression of ``u``) when given."""
    if kind is ColumnKind.LIST:
        values = d.transform(source, "u", f"CAST(u AS {d.text_type})")
    else:
        values = d.split_spaces(f"coalesce(CAST({source} AS {d.text_type}), '')")
    if mapped is not None:
        values = d.transform(values, "u", mapped)
    # An empty string is never a URL: the toolkit's CSV loader links every account that
    # posts without a URL through "" (see docs/integrity.md).
    return d.filter(d.distinct(values), "u", "u IS NOT NULL AND u <> ''")


def _timestamp(d: Dialect, source: str, kind: ColumnKind) -> str:
    if kind is ColumnKind.NUMBER:
        return f"CAST({source} AS DOUBLE)"
    if kind is ColumnKind.TIMESTAMP:
        return d.epoch_seconds_of_timestamp(source)
    return d.epoch_seconds_of_text(f"trim(CAST({source} AS {d.text_type}))")


# The optional columns a run can ask typed_sql for. Only those asked for are read and
# carried (a co_retweet run neither copies every text nor splits every URL list, and
# an out-of-core run spills no NULL placeholder columns).
OPTIONAL_COLUMNS = ("text", "urls", "reshare_of", "hashtags", "domains", "image_hash")
_LIST_COLUMNS = frozenset({"urls", "hashtags", "domains"})


def typed_sql(
    d: Dialect,
    sources: dict[str, str],
    kinds: dict[str, ColumnKind],
    *,
    keep: frozenset[str] = frozenset(OPTIONAL_COLUMNS),
    row: str = "rowid",
    originals_only: bool = False,
) -> str:
    """Every raw row, typed, with the reason it is rejected (NULL when usable).

    Columns: mid, aid, ts, then the :data:`OPTIONAL_COLUMNS` in ``keep`` (NULL when
    the input lacks one), then ``reject``. ``row`` numbers the rows: ``_row`` is
    carried from ``raw`` (in file order); ``rowid`` is a DuckDB table's own. Raw
    columns not asked for are never read. With ``originals_only`` (a network that
    leaves re-shares out) a re-share's text and lists are not carried: empty text,
    NULL lists."""
    t = d.text_type

    def col(name: str) -> str:
        return d.ident(sources[name])

    def kind(name: str) -> ColumnKind:
        return kinds[sources[name]]

    def optional(name: str) -> str:
        if name == "text":
            return f"coalesce(CAST({col(name)} AS {t}), '')" if name in sources else "''"
        if name in _LIST_COLUMNS:  # as read: split into lists only by keyed_sql
            if name not in sources:
                return f"CAST(NULL AS {'ARRAY<STRING>' if d.spark else 'VARCHAR[]'})"
            return col(name) if kind(name) is ColumnKind.LIST else f"CAST({col(name)} AS {t})"
        if name not in sources:
            return f"CAST(NULL AS {t})"
        return f"nullif(trim(CAST({col(name)} AS {t})), '')"

    def original(name: str, value: str) -> str:
        if not originals_only or "reshare_of" not in sources or name not in sources:
            return value
        if name == "text":
            return f"CASE WHEN {optional('reshare_of')} IS NULL THEN {value} ELSE '' END"
        if name in _LIST_COLUMNS:
            return f"CASE WHEN {optional('reshare_of')} IS NULL THEN {value} END"
        return value

    fields = [
        f"CAST({col('message_id')} AS {t}) AS mid",
        f"CAST({col('account_id')} AS {t}) AS aid",
        f"{_timestamp(d, col('timestamp'), kind('timestamp'))} AS ts",
        *(
            f"{original(name, optional(name))} AS {name}"
            for name in OPTIONAL_COLUMNS
            if name in keep
        ),
    ]
    if row == "_row":
        fields.insert(0, "_row")
    reject = (
        "CASE "
        f"WHEN mid IS NULL OR mid = '' THEN '{Reject.MISSING_MESSAGE_ID}' "
        f"WHEN aid IS NULL OR aid = '' THEN '{Reject.MISSING_ACCOUNT_ID}' "
        f"WHEN ts IS NULL THEN '{Reject.BAD_TIMESTAMP}' "
        # NaN compares greater than everything in both engines, so it lands here too.
        f"WHEN NOT (abs(ts) < {MAX_ABS_EPOCH_SECONDS:.0f}) THEN '{Reject.TIMESTAMP_OUT_OF_RANGE}' "
        "END"
    )
    return f"SELECT *, {reject} AS reject FROM (SELECT {', '.join(fields)} FROM raw) typed_rows"


def message_columns(keep: frozenset[str]) -> tuple[str, ...]:
    """The columns of ``msgs`` (and of ``typed`` less ``reject``) for ``keep``."""
    return ("mid", "aid", "ts", *(c for c in OPTIONAL_COLUMNS if c in keep))


def messages_sql(columns: tuple[str, ...], *, deduplicate: bool, row: str = "rowid") -> str:
    """Usable rows, first occurrence of each message id (the toolkit keeps the first).

    Duplicate ids are rare, so only they are ranked: a grouping on the id finds them,
    and every other row passes the (cheap) outer join untouched. File order is
    ``row`` (see :func:`typed_sql`), which is also each message's number ``mn``: the
    join and the edges work on numbers, not on the ids' strings. Without duplicates
    the usable rows are the answer."""
    listed = ", ".join(columns)
    if not deduplicate:
        return f"SELECT {row} AS mn, {listed} FROM typed WHERE reject IS NULL"
    duplicates = (
        f"SELECT mid, min({row}) AS first_row FROM typed WHERE reject IS NULL "
        "GROUP BY mid HAVING count(*) > 1"
    )
    prefixed = ", ".join(f"t.{c}" for c in columns)
    return (
        f"SELECT t.{row} AS mn, {prefixed} FROM typed t "
        f"LEFT JOIN ({duplicates}) dup ON dup.mid = t.mid "
        f"WHERE t.reject IS NULL AND (dup.mid IS NULL OR dup.first_row = t.{row})"
    )


def _minhash_params(count: int) -> list[tuple[int, int]]:
    params: list[tuple[int, int]] = []
    state = 12345
    for _ in range(count):
        state = (state * _MINHASH_MULTIPLIER) % MINHASH_PRIME
        a = state | 1
        state = (state * _MINHASH_MULTIPLIER) % MINHASH_PRIME
        params.append((a, state))
    return params


def texts_sql(d: Dialect, network: Network) -> str:
    """co_tweet and co_similar_tweet: every message's normalised text, as table ``texts``.

    Its own table, not a subquery: an engine pushes a filter on the text (its length)
    down into the scan and would then normalise every text twice."""
    originals = " WHERE reshare_of IS NULL" if network.originals_only else ""
    collapsed = f"SELECT mn, aid, ts, {normalised_text(d, 'text')} AS x FROM msgs{originals}"
    return f"SELECT mn, aid, ts, {trimmed(d, 'x')} AS obj FROM ({collapsed}) collapsed"


def tokens_sql(d: Dialect, config: DetectConfig) -> str:
    """co_similar_tweet: each original message's distinct word set and token hashes."""
    words = d.distinct(d.extract_all("obj", WORD_PATTERN))
    inner = f"SELECT mn, aid, ts, {words} AS toks FROM texts"
    hashed = d.transform("toks", "w", d.token_hash("w"))
    return (
        f"SELECT mn, aid, ts, toks, {hashed} AS hs FROM ({inner}) words "
        f"WHERE {d.size('toks')} >= {int(config.min_tokens)}"
    )


def keyed_sql(
    d: Dialect, network: Network, config: DetectConfig, source: ColumnKind = ColumnKind.STRING
) -> str:
    """(mn, aid, ts, obj): which object each message offers for matching, by the
    message's number ``mn`` (the id strings stay in ``msgs``).

    ``source`` is how the input holds the network's column (a list column may arrive
    as a list or as one space-separated string)."""
    originals = " WHERE reshare_of IS NULL" if network.originals_only else ""
    if network.kind is KeyKind.ALL:
        return "SELECT mn, aid, ts, '' AS obj FROM msgs"
    if network.kind is KeyKind.TEXT:  # from texts_sql
        shortest = int(config.min_text_length)
        return "SELECT mn, aid, ts, obj FROM texts" + (
            f" WHERE length(obj) >= {shortest}" if shortest > 0 else ""
        )
    if network.kind is KeyKind.RESHARE:
        return "SELECT mn, aid, ts, reshare_of AS obj FROM msgs WHERE reshare_of IS NOT NULL"
    if network.kind is KeyKind.SCALAR:
        column = network.column or ""
        where = f"{column} IS NOT NULL" + (" AND reshare_of IS NULL" if originals else "")
        return f"SELECT mn, aid, ts, {column} AS obj FROM msgs WHERE {where}"
    if network.kind is KeyKind.LIST:
        # Each value once per message, so no DISTINCT over the exploded rows is needed.
        column = network.column or ""
        if column == "hashtags":  # '#Wahl' and 'wahl' are the same hashtag
            values = _list_values(d, column, source, f"lower({d.ltrim('u', '#')})")
        elif source is ColumnKind.LIST:
            values = _list_values(d, column, source)
        else:  # most messages hold no value or one: split only those with a space
            values = (
                f"CASE WHEN instr({column}, ' ') = 0 THEN {d.array([column])} "
                f"ELSE {_list_values(d, column, source)} END"
            )
        where = f"{column} IS NOT NULL"
        if source is not ColumnKind.LIST:
            where += f" AND {column} <> ''"
        if originals:
            where += " AND reshare_of IS NULL"
        return f"SELECT mn, aid, ts, {d.unnest(values)} AS obj FROM msgs WHERE {where}"
    # SIMILAR: one object per LSH band, "band:h1.h2...": equal iff all rows agree.
    rows = config.minhash_rows
    params = _minhash_params(config.minhash_bands * rows)
    signature = [
        d.list_min(d.transform("hs", "h", f"(h * {a} + {b}) % {MINHASH_PRIME}")) for a, b in params
    ]
    bands = []
    for band in range(config.minhash_bands):
        parts = [f"CAST({s} AS {d.text_type})" for s in signature[band * rows : (band + 1) * rows]]
        bands.append(f"concat('{band}:', " + ", '.', ".join(parts) + ")")
    return f"SELECT mn, aid, ts, {d.unnest(d.array(bands))} AS obj FROM tokens"


def objects_sql(d: Dialect, config: DetectConfig) -> str:
    """Each object, how many messages offer it and how many accounts posted it; see
    :meth:`Dialect.object_number` for its number.

    Without an account cap, only "one account or several" matters (one account cannot
    link anyone), and min/max answer that far faster than a count: there ``accounts``
    is 1 or 2, meaning "two or more". With a cap, accounts are counted by grouping
    twice, not with a distinct count, whose hash tables cannot spill to disk."""
    if config.max_accounts_per_object is None:
        grouped = (
            "SELECT obj, CASE WHEN min(aid) = max(aid) THEN 1 ELSE 2 END AS accounts, "
            "count(*) AS messages FROM keyed GROUP BY obj"
        )
    else:  # from object_accounts_sql, a table of its own: two nested groupings in one
        # query ran out of memory at 100M rows where two in turn spill to disk.
        grouped = (
            "SELECT obj, count(*) AS accounts, sum(n) AS messages FROM object_accounts GROUP BY obj"
        )
    if d.spark:
        return f"SELECT row_number() OVER (ORDER BY obj) AS oid, g.* FROM ({grouped}) g"
    return grouped


def object_accounts_sql() -> str:
    """With an account cap: each (object, account) with its messages, for objects_sql."""
    return "SELECT obj, aid, count(*) AS n FROM keyed GROUP BY obj, aid"


def accounts_sql(d: Dialect) -> str:
    """Each account with a keyed message and its number ``an``, in the ids' order (so
    ``an1 < an2`` exactly when ``aid1 < aid2``)."""
    return (
        "SELECT aid, row_number() OVER (ORDER BY aid) AS an FROM (SELECT DISTINCT aid FROM keyed) a"
    )


def bucket_width(window: float) -> float:
    # A zero window still needs a positive bucket; matches then need equal times.
    return max(window, 1.0)


def joinable_sql(d: Dialect, network: Network, config: DetectConfig) -> str:
    """Keyed messages worth joining, as numbers (message, account, object) with their
    time bucket.

    Objects with a single account cannot link anyone and are dropped before the
    join; objects above the account cap are dropped and reported."""
    width = bucket_width(config.window)
    fields = f"k.mn, a.an, k.ts, CAST(floor(k.ts / {width!r}) AS BIGINT) AS bk"
    accounts = "JOIN accounts a ON a.aid = k.aid"
    if network.kind is KeyKind.ALL:
        return f"SELECT {fields}, CAST(0 AS BIGINT) AS oid FROM keyed k {accounts}"
    cap = ""
    if config.max_accounts_per_object is not None:
        cap = f" AND o.accounts <= {int(config.max_accounts_per_object)}"
    return (
        f"SELECT {fields}, {d.object_number('o')} AS oid FROM keyed k "
        f"JOIN objects o ON k.obj = o.obj {accounts} "
        f"WHERE o.accounts >= 2{cap}"
    )


def capped_sql(d: Dialect, config: DetectConfig, *, with_text: bool = True) -> str:
    """Objects left out for having more accounts than the cap, each with a sample: its
    earliest message (ties: the first id in text order, as ids are text), the same
    whatever order rows were read in. Reads ``keyed``, so it runs before that table
    is dropped."""
    cap = config.max_accounts_per_object
    text = "m.text" if with_text else f"CAST(NULL AS {d.text_type})"
    capped = (
        "SELECT obj, accounts, messages FROM objects "
        f"WHERE accounts > {int(cap) if cap is not None else 0}"
    )
    first = (
        f"SELECT k.obj, min(k.ts) AS ts FROM keyed k JOIN ({capped}) c ON c.obj = k.obj "
        "GROUP BY k.obj"
    )
    sample = (
        f"SELECT k.obj, min(m.mid) AS mid FROM keyed k JOIN ({first}) f "
        "ON f.obj = k.obj AND f.ts = k.ts JOIN msgs m ON m.mn = k.mn GROUP BY k.obj"
    )
    return (
        "SELECT c.obj AS object, c.accounts, c.messages, s.mid AS sample_message_id, "
        f"{text} AS sample_text FROM ({capped}) c LEFT JOIN ({sample}) s ON s.obj = c.obj "
        "LEFT JOIN msgs m ON m.mid = s.mid ORDER BY c.accounts DESC, c.obj"
    )


def _neighbours(table: str) -> str:
    return (
        f"(SELECT n.*, n.bk + d.o AS nb FROM {table} n CROSS JOIN (VALUES (-1), (0), (1)) AS d(o))"
    )


def candidate_pairs_sql(
    network: Network, config: DetectConfig, buckets: tuple[int, int] | None = None
) -> str:
    """Message pairs of two different accounts on one object within the window, as
    numbers: accounts u1 < u2, messages m1, m2, times t1, t2 and the object oid.

    Only u1 < u2 is kept: both directed weights come from the same pair set, which
    halves the join. A message pair matching on several objects (two shared URLs,
    several LSH bands) counts once. With ``buckets`` (first, last), only the pairs
    whose first message lies in those time buckets: the union over ranges that
    cover every bucket once is the whole set."""
    multi = not single_object(network)
    oid = "min(a.oid)" if multi else "a.oid"
    a, b = "joinable", "joinable"
    if buckets is not None:
        first, last = int(buckets[0]), int(buckets[1])
        a = f"(SELECT * FROM joinable WHERE bk BETWEEN {first} AND {last})"
        b = f"(SELECT * FROM joinable WHERE bk BETWEEN {first - 1} AND {last + 1})"
    sql = (
        f"SELECT a.an AS u1, b.an AS u2, a.mn AS m1, b.mn AS m2, a.ts AS t1, b.ts AS t2, "
        f"{oid} AS oid FROM {a} a JOIN {_neighbours(b)} b "
        f"ON a.oid = b.oid AND a.bk = b.nb "
        f"WHERE a.an < b.an AND abs(a.ts - b.ts) <= {config.window!r}"
    )
    if multi:
        sql += " GROUP BY a.an, b.an, a.mn, b.mn, a.ts, b.ts"
    return sql


def similar_pairs_sql(d: Dialect, config: DetectConfig) -> str:
    """Keep only LSH candidates whose word sets really reach the Jaccard threshold."""
    inter = d.intersect_size("x.toks", "y.toks")
    union = d.union_size("x.toks", "y.toks")
    jaccard = f"CAST({inter} AS DOUBLE) / {union}"
    return (
        f"SELECT c.u1, c.u2, c.m1, c.m2, c.t1, c.t2, "
        f"concat('jaccard ', CAST(round({jaccard}, 3) AS {d.text_type})) AS obj "
        f"FROM candidates c JOIN tokens x ON x.mn = c.m1 JOIN tokens y ON y.mn = c.m2 "
        f"WHERE {jaccard} >= {config.similarity_threshold!r}"
    )


def single_object(network: Network) -> bool:
    """Whether a message offers one object at most (so a pair has one ``oid``)."""
    return network.kind not in (KeyKind.LIST, KeyKind.SIMILAR)


def multi_posters_sql() -> str:
    """(object, account) where the account has more than one joinable message."""
    return "SELECT oid, an FROM joinable GROUP BY oid, an HAVING count(*) > 1"


def _matched(network: Network, mine: str, theirs: str) -> str:
    """Each (u1, u2, message of ``mine``) that ``theirs`` matched, once.

    A message offering one object can meet an account that posted that object once
    in one pair only, so those pairs need no de-duplication; only the pairs with an
    account that posted the object several times (``multi_posters``, usually few)
    are made distinct. Messages with several objects are always made distinct."""
    m = "m1" if mine == "u1" else "m2"
    if not single_object(network):
        return f"SELECT DISTINCT u1, u2, {m} FROM pair_numbers"
    multi = f"EXISTS (SELECT 1 FROM multi_posters q WHERE q.oid = p.oid AND q.an = p.{theirs})"
    return (
        f"SELECT u1, u2, {m} FROM pair_numbers p WHERE NOT {multi} UNION ALL "
        f"SELECT DISTINCT u1, u2, {m} FROM pair_numbers p WHERE {multi}"
    )


def edges_sql(network: Network, config: DetectConfig) -> str:
    """Directed edges with the toolkit's weight: A->B counts A's messages B matched.

    Counted on numbers (see :func:`_matched`), and the account names are looked up
    for the edges only."""
    directed = (
        f"SELECT u1 AS x, u2 AS y, count(*) AS weight FROM ({_matched(network, 'u1', 'u2')}) "
        f"d1 GROUP BY u1, u2 UNION ALL SELECT u2 AS x, u1 AS y, count(*) AS weight FROM "
        f"({_matched(network, 'u2', 'u1')}) d2 GROUP BY u1, u2"
    )
    return (
        f"SELECT a.aid AS user_1, b.aid AS user_2, w.weight FROM ({directed}) w "
        "JOIN accounts a ON a.an = w.x JOIN accounts b ON b.an = w.y "
        f"WHERE w.weight >= {int(config.min_weight)}"
    )


def pairs_sql(d: Dialect, network: Network) -> str:
    """The matched pairs with ids and objects again (u1, u2, m1, m2, t1, t2, obj), for
    the evidence and the cases: only a full run needs them."""
    obj = "p.obj" if network.kind is KeyKind.SIMILAR else "coalesce(o.obj, '')"
    objects = (
        ""
        if network.kind is KeyKind.SIMILAR
        else f" LEFT JOIN objects o ON {d.object_number('o')} = p.oid"
    )
    return (
        f"SELECT a.aid AS u1, b.aid AS u2, x.mid AS m1, y.mid AS m2, p.t1, p.t2, {obj} AS obj "
        "FROM pair_numbers p JOIN accounts a ON a.an = p.u1 JOIN accounts b ON b.an = p.u2 "
        f"JOIN msgs x ON x.mn = p.m1 JOIN msgs y ON y.mn = p.m2{objects}"
    )


def evidence_sql(config: DetectConfig) -> str:
    """The earliest matched message pairs behind each account pair, with their text."""
    return (
        "SELECT e.u1 AS user_1, e.u2 AS user_2, e.m1 AS message_id_1, e.m2 AS message_id_2, "
        "e.t1 AS ts_1, e.t2 AS ts_2, e.obj AS object, e.pairs_total, "
        "substr(x.text, 1, 500) AS text_1, substr(y.text, 1, 500) AS text_2 FROM ("
        "SELECT p.*, row_number() OVER (PARTITION BY u1, u2 ORDER BY t1, t2, m1, m2) AS rk, "
        "count(*) OVER (PARTITION BY u1, u2) AS pairs_total FROM pairs p "
        "WHERE EXISTS (SELECT 1 FROM edges w WHERE w.user_1 = p.u1 AND w.user_2 = p.u2) "
        "OR EXISTS (SELECT 1 FROM edges w WHERE w.user_1 = p.u2 AND w.user_2 = p.u1)"
        f") e JOIN msgs x ON x.mid = e.m1 JOIN msgs y ON y.mid = e.m2 "
        f"WHERE e.rk <= {int(config.evidence_per_edge)}"
    )


def case_matches_sql() -> str:
    """Matched messages inside each case (both ends of a pair in the same case)."""
    side = (
        "SELECT c1.case_id, p.{u} AS aid, p.{m} AS mid, p.{t} AS ts, p.obj FROM pairs p "
        "JOIN members c1 ON c1.aid = p.{u} JOIN members c2 ON c2.aid = p.{o} "
        "WHERE c1.case_id = c2.case_id"
    )
    return (
        side.format(u="u1", m="m1", t="t1", o="u2")
        + " UNION "
        + side.format(u="u2", m="m2", t="t2", o="u1")
    )


def case_activity_sql(config: DetectConfig) -> str:
    width = bucket_width(config.window)
    return (
        "SELECT c.case_id, m.aid, CAST(floor(m.ts / "
        f"{width!r}) AS BIGINT) AS bk, count(*) AS n "
        "FROM msgs m JOIN members c ON c.aid = m.aid GROUP BY c.case_id, m.aid, "
        f"CAST(floor(m.ts / {width!r}) AS BIGINT)"
    )


def case_baseline_sql() -> str:
    """Per case: messages of members posted in the same or an adjacent window bin as
    another member's, whatever they posted. Every matched message is among them."""
    return (
        "SELECT case_id, sum(n) AS coactive FROM ("
        "SELECT a.case_id, a.aid, a.bk, max(a.n) AS n FROM activity a "
        f"JOIN {_neighbours('activity')} b ON a.case_id = b.case_id AND a.bk = b.nb "
        "WHERE a.aid <> b.aid GROUP BY a.case_id, a.aid, a.bk) co GROUP BY case_id"
    )


def case_totals_sql() -> str:
    return (
        "SELECT m.case_id, count(DISTINCT m.mid) AS matched, count(DISTINCT m.obj) AS objects, "
        "min(m.ts) AS first_ts, max(m.ts) AS last_ts, coalesce(max(b.coactive), 0) AS coactive "
        "FROM case_matches m LEFT JOIN baseline b ON b.case_id = m.case_id GROUP BY m.case_id"
    )


def case_objects_sql(per_case: int) -> str:
    return (
        "SELECT case_id, obj, messages, accounts FROM ("
        "SELECT case_id, obj, count(DISTINCT mid) AS messages, count(DISTINCT aid) AS accounts, "
        "row_number() OVER (PARTITION BY case_id ORDER BY count(DISTINCT mid) DESC, obj) AS rk "
        f"FROM case_matches GROUP BY case_id, obj) ranked WHERE rk <= {int(per_case)}"
    )


def global_baseline_sql(config: DetectConfig) -> str:
    """The same-window baseline over *all* accounts: messages posted in a window bin
    (or an adjacent one) where some other account posted too, and how many of all
    messages matched. Their ratio is the chance that co-active messages share an
    object. Linear: it counts accounts per bin instead of pairing messages."""
    width = bucket_width(config.window)
    bins = (
        f"SELECT CAST(floor(ts / {width!r}) AS BIGINT) AS bk, aid, count(*) AS n "
        "FROM msgs GROUP BY CAST(floor(ts / " + repr(width) + ") AS BIGINT), aid"
    )
    return (
        f"WITH bins AS ({bins}), near AS (SELECT n.bk + d.o AS bk, count(DISTINCT n.aid) AS k "
        "FROM bins n CROSS JOIN (VALUES (-1), (0), (1)) AS d(o) GROUP BY n.bk + d.o) "
        "SELECT (SELECT sum(b.n) FROM bins b JOIN near ON near.bk = b.bk WHERE near.k >= 2) "
        "AS coactive, (SELECT count(*) FROM (SELECT m1 AS m FROM pairs UNION SELECT m2 AS m "
        "FROM pairs) u) AS matched"
    )
