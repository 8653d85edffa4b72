"""The three roles, as Django groups with model permissions.

analyst  reads everything but history.
editor   analyst + reads history; creates and edits agreements, events, sources
         and citations; deletes events, citations, aliases and relations.
admin    everything on Pacts' models, plus users and groups; is_staff follows it;
         reads sign-in records and unlocks throttled sign-ins (django-axes).
"""

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
    """The highest role a user has, or None for anonymous visitors and users without one."""
    if not user.is_authenticated:
        return None
    # Views and templates ask several times per request; the groups are read once.
    if not hasattr(user, "_pacts_role"):
        names = {group.name for group in user.groups.all()}
        user._pacts_role = (
            ADMIN if user.is_superuser else next((r for r in (ADMIN, EDITOR, ANALYST) if r in names), None)
        )
    return user._pacts_role
