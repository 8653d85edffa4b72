from django.contrib.auth.models import Group

from pacts.roles import ADMIN, ANALYST, EDITOR, ROLE_PERMISSIONS, role_of


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
