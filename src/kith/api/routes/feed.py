"""Posts, the feed with its reasons and stopping cues, goals, the profile, feedback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from kith.accounts.models import User
from kith.accounts.schemas import UserOut
from kith.api.deps import DB, CurrentUser, IdPath, Now
from kith.feed import actions, queries
from kith.feed.access import access_post
from kith.feed.models import Post
from kith.feed.queries import RuleView
from kith.feed.rankers.registry import RANKERS, ranker_names
from kith.feed.schemas import (
    BudgetIn,
    BudgetOut,
    CardOut,
    EngagementIn,
    FeedbackIn,
    FeedbackOut,
    FeedItemOut,
    FeedOut,
    GoalsIn,
    GoalsOut,
    PostIn,
    PostOut,
    PostsOut,
    ProfileEntryOut,
    ProfileIn,
    ProfileOut,
    RankerOut,
    RuleOut,
    WhyOut,
)
from kith.feed.serving import do_serve_page
from kith.feed.topics import FEED_TOPICS

router = APIRouter(tags=["feed"])

CURSOR_MAX = 400


def post_out(db: DB, post: Post, author: User, viewer: User) -> PostOut:
    mine = post.author_id == viewer.id
    return PostOut(
        id=post.id,
        author=UserOut.of(author),
        text=post.text,
        link=post.link,
        topics=list(post.topic_list),
        topics_source=post.topics_source,
        created_at=post.created_at,
        label=post.label,
        mine=mine,
        audience=queries.audience_names(db, [post.id])[post.id] if mine else None,
        suppressed=post.suppressed if mine else None,
    )


def rule_out(view: RuleView, now: Now) -> RuleOut:
    rule = view.rule
    return RuleOut(
        id=view.id,
        kind=rule.kind.value,
        topic=rule.topic,
        username=view.author.username if view.author else None,
        created_at=rule.created_at,
        expires_at=rule.expires_at,
        active=rule.is_active(now),
    )


# --- the feed -----------------------------------------------------------------------------


@router.get("/feed")
def get_feed(
    user: CurrentUser,
    db: DB,
    now: Now,
    ranker: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> FeedOut:
    """One page: items with ``why``; a card when caught up or over budget.

    kith's rankers serve pages of 20 and stop; ``engagement`` scrolls forever. Follow
    ``next_cursor`` for the next page; the same cursor gives the same page again.
    """
    page = do_serve_page(db, user, ranker=ranker, cursor=cursor, now=now)
    return FeedOut(
        ranker=page.ranker,
        infinite_scroll=page.infinite_scroll,
        items=[
            FeedItemOut(
                post=post_out(db, item.post, item.author, user),
                why=WhyOut(
                    ranker=item.why.ranker,
                    source=item.why.source,
                    goal=item.why.goal,
                    goal_source=item.why.goal_source,
                    score=item.why.score,
                    parts=item.why.parts,
                    reasons=item.reasons,
                    uses_your_activity=page.uses_activity,
                ),
            )
            for item in page.items
        ],
        card=CardOut(
            kind=page.card.kind.value,
            message=page.card.message,
            choices=list(page.card.choices),
        )
        if page.card
        else None,
        next_cursor=page.next_cursor,
        minutes_today=round(page.minutes_today, 2),
        budget_minutes=page.budget_minutes,
        uses_your_activity=page.uses_activity,
        target_mix=page.target,
        hidden=page.hidden,
    )


@router.post("/feed/budget")
def budget_choice(body: BudgetIn, user: CurrentUser, db: DB, now: Now) -> BudgetOut:
    """The budget card's deliberate choice: ``continue`` (10 more minutes) or ``stop``."""
    day = actions.do_budget_choice(db, user, actions.BudgetChoice(body.choice), now=now)
    goals = queries.load_goals(db, user).goals
    return BudgetOut(
        minutes_today=round(queries.minutes_today(db, user, now=now), 2),
        budget_minutes=goals.daily_budget_minutes + day.extra_minutes,
        stopped=day.stopped,
    )


@router.post("/feed/items/{post_id}/feedback")
def feedback(post_id: IdPath, body: FeedbackIn, user: CurrentUser, db: DB, now: Now) -> FeedbackOut:
    """``more``, ``less`` or ``never`` about a post the feed showed you, its author or topic."""
    outcome = actions.do_feedback(
        db,
        user,
        post_id,
        actions.Feedback(body.feedback),
        about=actions.About(body.about),
        topic=body.topic,
        now=now,
    )
    learning = queries.uses_activity(db, user, now=now)
    rule = None
    if outcome.rule is not None:
        view = next(v for v in queries.list_rules(db, user) if v.id == outcome.rule.id)
        rule = rule_out(view, now)
    return FeedbackOut(
        post_id=outcome.post.id,
        feedback=outcome.feedback.value,
        about=outcome.about.value,
        rule=rule,
        hidden=outcome.hidden,
        used_for_ranking=learning or outcome.feedback is not actions.Feedback.MORE,
        message=actions.feedback_message(outcome, learning=learning),
    )


@router.post("/feed/items/{post_id}/engagement", status_code=204)
def engagement(
    post_id: IdPath, body: EngagementIn, user: CurrentUser, db: DB, now: Now
) -> Response:
    """Report that you opened, liked or replied to a post the feed showed you."""
    actions.do_record_engagement(db, user, post_id, actions.Engagement(body.kind), now=now)
    return Response(status_code=204)


# --- goals and profile -----------------------------------------------------------------------


def goals_out(db: DB, user: User, now: Now) -> GoalsOut:
    view = queries.load_goals(db, user)
    return GoalsOut(
        target_mix=dict(view.goals.target_mix),
        daily_budget_minutes=view.goals.daily_budget_minutes,
        ranker=view.goals.ranker,
        rules=[rule_out(r, now) for r in view.rules],
        stated=view.stated,
        rankers=[
            RankerOut(
                name=n, summary=RANKERS[n].summary, infinite_scroll=RANKERS[n].infinite_scroll
            )
            for n in ranker_names(user_facing_only=True)
        ],
        topics=list(FEED_TOPICS),
    )


@router.get("/me/goals")
def get_goals(user: CurrentUser, db: DB, now: Now) -> GoalsOut:
    return goals_out(db, user, now)


@router.put("/me/goals")
def put_goals(body: GoalsIn, user: CurrentUser, db: DB, now: Now) -> GoalsOut:
    """Replace your goals: target mix (adds up to 100%), budget, ranker, and optionally rules."""
    rules = (
        None
        if body.rules is None
        else [
            actions.RuleSpec(r.kind, topic=r.topic, username=r.username, expires_at=r.expires_at)
            for r in body.rules
        ]
    )
    actions.do_set_goals(
        db,
        user,
        target_mix=body.target_mix,
        daily_budget_minutes=body.daily_budget_minutes,
        ranker=body.ranker,
        rules=rules,
        now=now,
    )
    return goals_out(db, user, now)


def profile_out(db: DB, user: User, now: Now) -> ProfileOut:
    view = queries.profile_overview(db, user, now=now)
    return ProfileOut(
        learning=view.learning,
        explanation=view.explanation,
        entries=[
            ProfileEntryOut(topic=e.topic, weight=e.weight, source=e.source, items=e.items)
            for e in view.entries
        ],
        target_mix=view.target,
    )


@router.get("/me/profile")
def get_profile(user: CurrentUser, db: DB, now: Now) -> ProfileOut:
    """What kith learned about your interests (if you allow it) and what you set, with sources."""
    return profile_out(db, user, now)


@router.put("/me/profile")
def put_profile(body: ProfileIn, user: CurrentUser, db: DB, now: Now) -> ProfileOut:
    """Set topics' weights (0 to 1), or null to hand a topic back to learning."""
    actions.do_edit_profile(db, user, body.topics, now=now)
    return profile_out(db, user, now)


# --- posts -----------------------------------------------------------------------------------


@router.post("/posts", status_code=201)
def create_post(body: PostIn, user: CurrentUser, db: DB, now: Now) -> PostOut:
    """Post to your circles (all of them if ``audience`` is omitted); topics inferred if none."""
    post = actions.do_create_post(
        db,
        user,
        text=body.text,
        link=body.link,
        topics=body.topics,
        audience=body.audience,
        now=now,
    )
    return post_out(db, post, user, user)


@router.get("/posts/{post_id}")
def get_post(post_id: IdPath, user: CurrentUser, db: DB) -> PostOut:
    post = access_post(db, user, post_id)
    author = db.get(User, post.author_id)
    assert author is not None
    return post_out(db, post, author, user)


@router.delete("/posts/{post_id}", status_code=204)
def delete_post(post_id: IdPath, user: CurrentUser, db: DB) -> Response:
    actions.do_delete_post(db, user, post_id)
    return Response(status_code=204)


@router.get("/me/posts")
def my_posts(
    user: CurrentUser,
    db: DB,
    before: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> PostsOut:
    """Your own posts, newest first, 50 at a time (``before`` = the last id you have)."""
    posts = queries.own_posts(db, user, limit=queries.OWN_POSTS_PAGE + 1, before_id=before)
    more = len(posts) > queries.OWN_POSTS_PAGE
    posts = posts[: queries.OWN_POSTS_PAGE]
    return PostsOut(
        posts=[post_out(db, p, user, user) for p in posts],
        next_before=posts[-1].id if more else None,
    )
