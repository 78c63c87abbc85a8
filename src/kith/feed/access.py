"""The choke points for posts: the only ways to get a post on someone's behalf.

A post is visible to its author, and to a friend of the author whom the author keeps in
one of the post's audience circles, never across a block (either way) and never once
the integrity queue suppressed it. Everything else, including a post that does not
exist, is the same :class:`~kith.errors.NotFound` with the same message.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session, aliased

from kith.accounts.access import is_blocked_either_way
from kith.accounts.models import Block, Circle, Friendship, User
from kith.errors import NotFound
from kith.feed.models import Post, PostAudience

POST_NOT_FOUND = "no such post"


def _audience_includes(db: Session, post: Post, viewer: User) -> bool:
    """True when the author keeps the viewer in one of the post's audience circles."""
    return (
        db.scalar(
            select(PostAudience.circle_id)
            .join(Friendship, Friendship.circle_id == PostAudience.circle_id)
            .where(
                PostAudience.post_id == post.id,
                Friendship.user_id == post.author_id,
                Friendship.friend_id == viewer.id,
            )
        )
        is not None
    )


def access_post(db: Session, viewer: User, post_id: int) -> Post:
    """A post the viewer may see."""
    post = db.get(Post, post_id)
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    if post.author_id == viewer.id:
        return post
    if post.suppressed:
        raise NotFound(POST_NOT_FOUND)
    if is_blocked_either_way(db, viewer.id, post.author_id):
        raise NotFound(POST_NOT_FOUND)
    if not _audience_includes(db, post, viewer):
        raise NotFound(POST_NOT_FOUND)
    return post


def access_own_post(db: Session, author: User, post_id: int) -> Post:
    """One of the author's own posts (to delete it); anyone else's is not found."""
    post = db.get(Post, post_id)
    if post is None or post.author_id != author.id:
        raise NotFound(POST_NOT_FOUND)
    return post


def visible_posts(viewer: User) -> Select[Post, User, str, bool]:
    """Every post the viewer may see from others, with its author and the viewer's circle.

    The same conditions as :func:`access_post`, as one query for the feed: the author's
    friendship puts the viewer in an audience circle, no block either way, not suppressed.
    """
    theirs = aliased(Friendship)  # the author's side: which circle the viewer is in
    mine = aliased(Friendship)  # the viewer's side: which circle the author is in
    my_circle = aliased(Circle)
    in_audience = exists().where(
        PostAudience.post_id == Post.id, PostAudience.circle_id == theirs.circle_id
    )
    blocked = exists().where(
        and_(Block.blocker_id == viewer.id, Block.blocked_id == Post.author_id)
        | and_(Block.blocker_id == Post.author_id, Block.blocked_id == viewer.id)
    )
    return (
        select(Post, User, my_circle.name_key, my_circle.builtin)
        .join(User, User.id == Post.author_id)
        .join(theirs, and_(theirs.user_id == Post.author_id, theirs.friend_id == viewer.id))
        .join(mine, and_(mine.user_id == viewer.id, mine.friend_id == Post.author_id))
        .join(my_circle, my_circle.id == mine.circle_id)
        .where(
            Post.author_id != viewer.id,
            Post.suppressed.is_(False),
            in_audience,
            ~blocked,
        )
    )
