import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse

from pacts.roles import ADMIN, ANALYST, EDITOR, ROLE_PERMISSIONS, role_key, role_of, user_key
from tests.conftest import HTMX


def permissions_of(role):
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_migration_creates_the_three_groups_with_their_permissions(db):
    for role, expected in ROLE_PERMISSIONS.items():
        assert permissions_of(role) == expected


def test_analysts_read_but_do_not_write_or_read_history(analyst):
    assert analyst.has_perm("pacts.view_agreement")
    assert not analyst.has_perm("pacts.change_agreement")
    assert not analyst.has_perm("pacts.view_historicalagreement")


def test_editors_write_events_and_sources_but_cannot_delete_or_rate_sources(editor):
    assert editor.has_perms(["pacts.add_event", "pacts.change_event", "pacts.delete_event", "pacts.add_source"])
    assert editor.has_perm("pacts.view_historicalevent")
    assert not editor.has_perm("pacts.delete_source")
    assert not editor.has_perm("pacts.change_publisher")


def test_admins_manage_sources_publishers_and_users(admin_user):
    assert admin_user.has_perms(["pacts.delete_source", "pacts.change_publisher", "auth.change_user"])


def test_joining_the_admin_group_makes_staff_and_leaving_it_unmakes(make_user):
    user = make_user(EDITOR, username="lead")
    assert not user.is_staff
    user.groups.add(Group.objects.get(name=ADMIN))
    user.refresh_from_db()
    assert user.is_staff
    user.groups.remove(Group.objects.get(name=ADMIN))
    user.refresh_from_db()
    assert not user.is_staff


def test_adding_users_from_the_group_side_keeps_staff_in_step(make_user):
    user = make_user(ANALYST, username="deputy")
    Group.objects.get(name=ADMIN).user_set.add(user)
    user.refresh_from_db()
    assert user.is_staff
    Group.objects.get(name=ADMIN).user_set.clear()
    user.refresh_from_db()
    assert not user.is_staff


def test_role_of_picks_the_highest_role(make_user, django_user_model):
    user = make_user(ANALYST, username="both")
    user.groups.add(Group.objects.get(name=EDITOR))
    assert role_of(user) == EDITOR
    assert role_of(django_user_model.objects.create_user("nobody")) is None


# --- Roles kept in a shared cache -----------------------------------------------------


@pytest.fixture
def shared_cache(settings):
    settings.PACTS_SHARED_CACHE = True


def fresh(user):
    """The user as the next request loads it (role_of remembers the role on the instance)."""
    return type(user).objects.get(pk=user.pk)


def cached(user):
    """Let the last change be long past (its mark expired), and cache the user's role."""
    cache.clear()
    role = role_of(fresh(user))
    assert cache.get(role_key(user.pk)) == (role or "")
    return role


def test_a_cached_role_is_read_without_the_groups(make_user, shared_cache, django_assert_num_queries):
    user = make_user(EDITOR)
    assert cached(user) == EDITOR
    user = fresh(user)
    with django_assert_num_queries(0):
        assert role_of(user) == EDITOR


@pytest.mark.parametrize("side", ["user", "group"])
def test_a_change_of_groups_applies_at_once_despite_the_cache(make_user, shared_cache, side):
    user = make_user(EDITOR)
    editors, analysts = Group.objects.get(name=EDITOR), Group.objects.get(name=ANALYST)
    assert cached(user) == EDITOR
    if side == "user":
        user.groups.remove(editors)
        user.groups.add(analysts)
    else:
        editors.user_set.remove(user)
        analysts.user_set.add(user)
    assert role_of(fresh(user)) == ANALYST
    assert cached(user) == ANALYST
    analysts.user_set.clear()
    assert role_of(fresh(user)) is None


def test_renaming_or_deleting_a_group_and_superuser_changes_apply_at_once(make_user, shared_cache):
    user = make_user(ADMIN)
    assert cached(user) == ADMIN
    group = Group.objects.get(name=ADMIN)
    group.name = "former admins"
    group.save()
    assert role_of(fresh(user)) is None
    assert cached(user) is None
    user.is_superuser = True
    user.save()
    assert role_of(fresh(user)) == ADMIN
    user.is_superuser = False
    user.save()
    user.groups.add(Group.objects.get(name=EDITOR))
    assert cached(user) == EDITOR
    Group.objects.get(name=EDITOR).delete()
    assert role_of(fresh(user)) is None


def test_a_demoted_editor_is_refused_on_the_next_request(client, make_user, shared_cache, gsomia):
    user = make_user(EDITOR)
    client.force_login(user)
    new_event = reverse("event-new", args=[gsomia.slug])
    cache.clear()
    assert client.get(new_event).status_code == 200
    assert cache.get(role_key(user.pk)) == EDITOR
    user.groups.set([Group.objects.get(name=ANALYST)])
    assert client.get(new_event).status_code == 403


# --- Signed-in users kept in a shared cache (CachedUserBackend) -------------------------


def poll(client, agreement):
    """The timeline's poll: with the revision cached, it reads nothing but the session and the user."""
    return client.get(f"{agreement.get_absolute_url()}?since={agreement.revision}", headers=HTMX)


def test_a_signed_in_user_is_read_from_the_cache_with_its_role(
    client, make_user, shared_cache, gsomia, django_assert_num_queries
):
    user = make_user(ANALYST)
    client.force_login(user)
    cache.clear()
    assert poll(client, gsomia).status_code == 204  # reads the user and its groups, keeps both
    assert cache.get(user_key(user.pk))._pacts_role == ANALYST
    with django_assert_num_queries(1):  # the session (a database session in the tests)
        assert poll(client, gsomia).status_code == 204


@pytest.mark.parametrize("change", ["new password", "deactivated", "deleted"])
def test_a_change_to_the_user_applies_at_once_despite_the_cache(client, make_user, shared_cache, gsomia, change):
    user = make_user(ANALYST)
    client.force_login(user)
    cache.clear()
    assert poll(client, gsomia).status_code == 204
    assert cache.get(user_key(user.pk)) is not None
    if change == "new password":
        user.set_password("another long passphrase")
        user.save()
    elif change == "deactivated":
        user.is_active = False
        user.save()
    else:
        user.delete()
    response = poll(client, gsomia)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_a_reader_never_overwrites_a_change_marked_meanwhile(client, make_user, shared_cache, gsomia):
    user = make_user(ANALYST)
    client.force_login(user)
    cache.clear()
    user.save()  # marks the user: the next request reads it from the database and keeps nothing
    assert poll(client, gsomia).status_code == 204
    assert cache.get(user_key(user.pk)) == "ask-database"
