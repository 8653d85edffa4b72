"""The three roles, as Django groups with model permissions.

analyst  reads everything but history.
editor   analyst + reads history; creates and edits agreements, events, sources
         and citations; deletes events, citations, aliases and relations.
admin    everything on Pacts' models, plus users and groups; is_staff follows it;
         reads sign-in records and unlocks throttled sign-ins (django-axes).

With a shared cache, each user's role and each signed-in user are kept there, and
every change that could alter them marks them ASK_DATABASE (see `forget_roles`).
"""

import django
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

ANALYST, EDITOR, ADMIN = "analyst", "editor", "admin"
ROLES = (ANALYST, EDITOR, ADMIN)

DOMAIN_MODELS = ("agreement", "alias", "relation", "event", "citation", "source", "publisher", "party")
HISTORY_MODELS = tuple(f"historical{name}" for name in DOMAIN_MODELS if name != "party")

ANALYST_PERMISSIONS = {f"pacts.view_{model}" for model in DOMAIN_MODELS}
EDITOR_PERMISSIONS = (
    ANALYST_PERMISSIONS
    | {f"pacts.view_{model}" for model in HISTORY_MODELS}
    | {f"pacts.{action}_{model}" for action in ("add", "change") for model in DOMAIN_MODELS if model != "party"}
    | {f"pacts.delete_{model}" for model in ("alias", "relation", "event", "citation")}
) - {"pacts.change_publisher"}
ADMIN_PERMISSIONS = (
    EDITOR_PERMISSIONS
    | {f"pacts.{action}_{model}" for action in ("add", "change", "delete", "view") for model in DOMAIN_MODELS}
    | {f"pacts.{action}_{model}" for action in ("change", "delete") for model in HISTORY_MODELS}
    | {f"auth.{action}_{model}" for action in ("add", "change", "delete", "view") for model in ("user", "group")}
    # Unlocking a throttled sign-in is deleting its access attempt; the logs are read-only.
    | {"axes.view_accessattempt", "axes.delete_accessattempt", "axes.view_accesslog", "axes.view_accessfailurelog"}
)
ROLE_PERMISSIONS = {ANALYST: ANALYST_PERMISSIONS, EDITOR: EDITOR_PERMISSIONS, ADMIN: ADMIN_PERMISSIONS}


def ensure_roles(apps, using="default"):
    """Create the groups and give each exactly its permissions (idempotent).

    Takes an app registry so a data migration can call it with its historical models.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = [tuple(name.split(".", 1)) for name in names]
        permissions = (
            Permission.objects.using(using)
            .filter(content_type__app_label__in={app for app, _ in wanted}, codename__in={code for _, code in wanted})
            .select_related("content_type")
        )
        group.permissions.set([p for p in permissions if (p.content_type.app_label, p.codename) in set(wanted)])


def role_of(user):
    """The highest role a user has, or None for anonymous visitors and users without one.

    With a shared cache (settings.PACTS_SHARED_CACHE) the role is kept there per user,
    so a request reads no groups; every change of groups or of `is_superuser` marks
    the users concerned ASK_DATABASE (see `forget_roles`) before it commits.
    """
    if not user.is_authenticated:
        return None
    # Views and templates ask several times per request; the groups are read once.
    if not hasattr(user, "_pacts_role"):
        cached = cache.get(role_key(user.pk)) if settings.PACTS_SHARED_CACHE else None
        if cached is not None and cached != ASK_DATABASE:
            user._pacts_role = cached or None
        else:
            names = {group.name for group in user.groups.all()}
            user._pacts_role = (
                ADMIN if user.is_superuser else next((r for r in (ADMIN, EDITOR, ANALYST) if r in names), None)
            )
            if cached is None and settings.PACTS_SHARED_CACHE:
                # add, not set: a change marked meanwhile is never overwritten by what was read before it.
                cache.add(role_key(user.pk), user._pacts_role or "", timeout=ROLE_TIMEOUT)
    return user._pacts_role


# A cached role lives an hour; after a change the users concerned read their groups for ten
# minutes, longer than any transaction that could still commit the change, or a replica's lag.
ROLE_TIMEOUT = 60 * 60
CHANGING_TIMEOUT = 10 * 60
ASK_DATABASE = "ask-database"


def role_key(user_id):
    return f"role:{user_id}"


def user_key(user_id):
    # Pickled model instances are only read back by the Django version that wrote them.
    return f"user:{django.__version__}:{user_id}"


class CachedUserBackend(ModelBackend):
    """ModelBackend that keeps each signed-in user, with its role, in the shared cache.

    Every request of a signed-in user loads the user; this way a page whose own data
    is cached (the timeline's poll, its 304, a cached fragment) reads no table at
    all. The rules are the role's: readers only `add` what they read, and every
    save or deletion of the user and every change of its groups marks it
    ASK_DATABASE before it commits, so a new password, a deactivation or a
    demotion applies at the next request.
    """

    def get_user(self, user_id):
        if not settings.PACTS_SHARED_CACHE:
            return super().get_user(user_id)
        cached = cache.get(user_key(user_id))
        if cached is not None and cached != ASK_DATABASE:
            return cached
        user = super().get_user(user_id)
        if user is not None and cached is None:
            role_of(user)  # kept on the instance, so it is cached with it
            cache.add(user_key(user_id), user, timeout=ROLE_TIMEOUT)
        return user


def forget_roles(user_ids):
    """These users' groups, superuser flag or account are changing: read them from the database for a while."""
    if settings.PACTS_SHARED_CACHE and user_ids:
        marks = {role_key(pk): ASK_DATABASE for pk in user_ids} | {user_key(pk): ASK_DATABASE for pk in user_ids}
        cache.set_many(marks, timeout=CHANGING_TIMEOUT)


def forget_members_roles(sender, instance, action, reverse, pk_set, **kwargs):
    """m2m_changed of User.groups, from either side; before and after the change."""
    if not action.startswith(("pre_", "post_")):
        return
    if not reverse:
        forget_roles([instance.pk])
    elif pk_set:
        forget_roles(pk_set)
    else:  # a group cleared of its members: who they are is only known before
        forget_roles(list(instance.user_set.values_list("pk", flat=True)))


def forget_group_roles(sender, instance, **kwargs):
    """post_save and pre_delete of a Group: a renamed or deleted group changes its members' roles."""
    if instance.pk is not None:
        forget_roles(list(instance.user_set.values_list("pk", flat=True)))


def forget_user(sender, instance, update_fields=None, **kwargs):
    """post_save and post_delete of a User: its superuser flag, password or activity may have changed.

    Signing in only stamps last_login, which nothing cached needs.
    """
    if update_fields is None or set(update_fields) - {"last_login"}:
        forget_roles([instance.pk])
