"""The feed pages: the feed with "why am I seeing this", goals, profile, simulator report.

The same actions and queries as the API. The goal sliders are relative weights on the
page (kith scales them to 100% and shows the result); the API takes exact shares.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from kith.accounts import queries as accounts
from kith.errors import InvalidInput, NotFound
from kith.feed import actions, queries
from kith.feed.models import Post
from kith.feed.rankers.registry import RANKERS, ranker_names
from kith.feed.serving import do_serve_page
from kith.feed.topics import FEED_TOPICS
from kith.web.deps import Form, MemberPage, PostedForm, is_local_path

router = APIRouter()

TOPIC_FIELD = "topic:"  # one checkbox per topic on the composer
AUDIENCE_FIELD = "audience:"  # one checkbox per circle
MIX_FIELD = "mix:"  # one slider per topic on the goals page
WEIGHT_FIELD = "weight:"  # one field per topic on the profile page

# The simulator's plots are made by `kith simulate ... --plot` (about 90 s on 2 cores):
# never on a request. The page shows the committed report in docs/feed/ of a source
# checkout, or one written under var/feed/ by the operator.
REPORT_DIRS: tuple[Path, ...] = (
    Path(__file__).resolve().parents[4] / "docs" / "feed",
    Path("var") / "feed",
)
REPORT_FILES = {"simulation": "simulation.png", "feedback_loop": "feedback_loop.png"}

TOPIC_LABELS = {
    "foodanddrink": "food & drink",
    "tv": "TV",
}


def topic_label(topic: str) -> str:
    return TOPIC_LABELS.get(topic, topic)


def _back(form: Form, default: str = "/feed") -> str:
    target = form.text("back")
    return target if target and is_local_path(target) else default


def feed_url(*, ranker: str | None = None, cursor: str | None = None) -> str:
    params = {k: v for k, v in (("ranker", ranker), ("cursor", cursor)) if v}
    return "/feed" + ("?" + urlencode(params) if params else "")


# --- the feed ---------------------------------------------------------------------------


@router.get("/feed")
def feed_page(page: MemberPage, ranker: str = "", cursor: str = "") -> Response:
    circles = accounts.list_circles(page.db, page.user)
    try:
        served = do_serve_page(
            page.db, page.user, ranker=ranker or None, cursor=cursor or None, now=page.now
        )
    except InvalidInput as exc:
        # A stale or edited link: start the feed afresh, and say why.
        return page.redirect("/feed", error=exc)
    here = feed_url(cursor=served.cursor) if served.cursor else feed_url(ranker=served.ranker)
    return page.render(
        "feed.html",
        served=served,
        here=here,
        next_url=feed_url(cursor=served.next_cursor) if served.next_cursor else None,
        rankers=[RANKERS[n] for n in ranker_names(user_facing_only=True)],
        topics=FEED_TOPICS,
        topic_label=topic_label,
        circles=circles,
        section="feed",
    )


def _checked(form: Form, prefix: str, names: tuple[str, ...] | list[str]) -> list[str]:
    return [name for name in names if form.text(prefix + name)]


@router.post("/feed/posts")
def create_post(page: MemberPage, form: PostedForm) -> Response:
    circles = [c.name for c in accounts.list_circles(page.db, page.user)]
    audience = _checked(form, AUDIENCE_FIELD, circles)
    return page.attempt(
        "/feed",
        lambda: actions.do_create_post(
            page.db,
            page.user,
            text=form.text("text"),
            link=form.text("link") or None,
            topics=_checked(form, TOPIC_FIELD, FEED_TOPICS) or None,
            audience=audience,
            now=page.now,
        ),
        _posted,
    )


def _posted(post: Post) -> str:
    topics = ", ".join(topic_label(t) for t in post.topic_list) or "no topic"
    how = "you chose" if post.topics_source == "author" else "inferred from the text"
    return f"Posted ({topics}, {how})."


@router.post("/feed/feedback")
def give_feedback(page: MemberPage, form: PostedForm) -> Response:
    back = _back(form)
    post_id = form.number("post_id")
    if post_id is None:
        return page.redirect(back, error=NotFound("no such post"))
    try:
        feedback = actions.Feedback(form.text("feedback"))
        about = actions.About(form.text("about") or "post")
    except ValueError:
        return page.redirect(back, error="That choice is not one kith offers.")
    learning = queries.uses_activity(page.db, page.user, now=page.now)
    return page.attempt(
        back,
        lambda: actions.do_feedback(
            page.db,
            page.user,
            post_id,
            feedback,
            about=about,
            topic=form.text("topic") or None,
            now=page.now,
        ),
        lambda outcome: actions.feedback_message(outcome, learning=learning),
    )


@router.post("/feed/budget")
def budget_choice(page: MemberPage, form: PostedForm) -> Response:
    back = _back(form)
    try:
        choice = actions.BudgetChoice(form.text("choice"))
    except ValueError:
        return page.redirect(back, error="Choose to stop or to continue.")
    if choice is actions.BudgetChoice.STOP:
        return page.attempt(
            back,
            lambda: actions.do_budget_choice(page.db, page.user, choice, now=page.now),
            "Stopped for today. See you tomorrow.",
        )
    return page.attempt(
        back,
        lambda: actions.do_budget_choice(page.db, page.user, choice, now=page.now),
        "Ten more minutes; the card comes back after that.",
    )


# --- goals ------------------------------------------------------------------------------------


@router.get("/feed/goals")
def goals_page(page: MemberPage) -> Response:
    view = queries.load_goals(page.db, page.user)
    friends = accounts.list_friends(page.db, page.user)
    return page.render(
        "feed_goals.html",
        view=view,
        topics=FEED_TOPICS,
        topic_label=topic_label,
        rankers=[RANKERS[n] for n in ranker_names(user_facing_only=True)],
        friends=friends,
        now=page.now,
        section="goals",
    )


def _slider_mix(form: Form) -> dict[str, float]:
    """Slider positions (0..100) as relative weights, scaled to shares that sum to 1."""
    raw: dict[str, float] = {}
    for topic in FEED_TOPICS:
        value = form.text(MIX_FIELD + topic).strip()
        if not value:
            continue
        if not value.isdigit() or int(value) > 100:
            raise InvalidInput(f"the slider for {topic_label(topic)} is out of range", field="mix")
        raw[topic] = float(value)
    total = sum(raw.values())
    if total <= 0:
        raise InvalidInput("move at least one slider above zero", field="target_mix")
    return {t: v / total for t, v in raw.items() if v > 0}


def _minutes(form: Form) -> int:
    value = form.text("daily_budget_minutes").strip()
    if not value.isdigit() or len(value) > 5:
        raise InvalidInput("the daily budget is a whole number of minutes", field="budget")
    return int(value)


@router.post("/feed/goals")
def save_goals(page: MemberPage, form: PostedForm) -> Response:
    def save() -> queries.GoalsView:
        return actions.do_set_goals(
            page.db,
            page.user,
            target_mix=_slider_mix(form),
            daily_budget_minutes=_minutes(form),
            ranker=form.text("ranker"),
            now=page.now,
        )

    return page.attempt("/feed/goals", save, "Goals saved; your next page follows them.")


def _end_of_day(value: str) -> datetime | None:
    """A date from the form as the end of that day (UTC); empty means no end."""
    value = value.strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).date()
    except ValueError:
        raise InvalidInput("give the end as a date", field="expires_at") from None
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


@router.post("/feed/goals/rules")
def add_rule(page: MemberPage, form: PostedForm) -> Response:
    target = form.text("target")
    topic = target.removeprefix("topic:") if target.startswith("topic:") else None
    username = target.removeprefix("person:") if target.startswith("person:") else None

    def add() -> object:
        if topic is None and username is None:
            raise InvalidInput("choose a topic or a person", field="rules")
        spec = actions.RuleSpec(
            form.text("kind"),
            topic=topic,
            username=username,
            expires_at=_end_of_day(form.text("expires_on")),
        )
        return actions.do_add_rule(page.db, page.user, spec, now=page.now)

    return page.attempt("/feed/goals", add, "Rule saved; it applies from your next page.")


@router.post("/feed/goals/rules/expiry")
def rule_expiry(page: MemberPage, form: PostedForm) -> Response:
    rule_id = form.number("rule_id")

    def change() -> object:
        if rule_id is None:
            raise NotFound("no such rule")
        ends = _end_of_day(form.text("expires_on"))
        return actions.do_set_rule_expiry(page.db, page.user, rule_id, ends, now=page.now)

    return page.attempt("/feed/goals", change, "Rule updated.")


@router.post("/feed/goals/rules/delete")
def remove_rule(page: MemberPage, form: PostedForm) -> Response:
    rule_id = form.number("rule_id")

    def remove() -> None:
        if rule_id is None:
            raise NotFound("no such rule")
        actions.do_remove_rule(page.db, page.user, rule_id)

    return page.attempt("/feed/goals", remove, "Rule removed.")


# --- profile -----------------------------------------------------------------------------------


@router.get("/feed/profile")
def profile_page(page: MemberPage) -> Response:
    view = queries.profile_overview(page.db, page.user, now=page.now)
    sources = sorted({i for line in view.entries for i in line.items})
    posts = {p.id: p for p in queries.posts_by_id(page.db, sources)}
    return page.render(
        "feed_profile.html",
        view=view,
        posts=posts,
        topics=FEED_TOPICS,
        topic_label=topic_label,
        section="profile",
    )


@router.post("/feed/profile")
def edit_profile(page: MemberPage, form: PostedForm) -> Response:
    topic = form.text("topic")
    value = form.text("weight").strip()

    def edit() -> object:
        if topic not in FEED_TOPICS:
            raise InvalidInput("choose a topic", field="topic")
        weight: float | None = None
        if value:
            if not value.isdigit() or int(value) > 100:
                raise InvalidInput("a share is a whole percentage, 0 to 100", field="weight")
            weight = int(value) / 100
        return actions.do_edit_profile(page.db, page.user, {topic: weight}, now=page.now)

    message = (
        f"{topic_label(topic).capitalize()} set to {value}%."
        if value
        else "Handed back to learning."
    )
    return page.attempt("/feed/profile", edit, message + " Your next page uses it.")


# --- simulator report ---------------------------------------------------------------------------


def _report_file(name: str) -> Path | None:
    for folder in REPORT_DIRS:
        path = folder / name
        if path.is_file():
            return path
    return None


@router.get("/feed/simulator")
def simulator_page(page: MemberPage) -> Response:
    found = {key: _report_file(name) is not None for key, name in REPORT_FILES.items()}
    return page.render("feed_simulator.html", found=found, section="simulator")


@router.get("/feed/simulator/{name}.png")
def simulator_plot(page: MemberPage, name: str) -> Response:
    path = _report_file(REPORT_FILES[name]) if name in REPORT_FILES else None
    if path is None:
        raise NotFound("that plot has not been made yet")
    return page.finish(FileResponse(path, media_type="image/png"))
