from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_delete, pre_save


class PactsConfig(AppConfig):
    name = "pacts"
    verbose_name = "Pacts"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from simple_history.signals import pre_create_historical_record

        from pacts import revisions, roles
        from pacts.history import reason_for_admin_changes
        from pacts.models import Agreement

        User = get_user_model()
        post_migrate.connect(restore_reference_data, sender=self)
        m2m_changed.connect(keep_staff_in_step_with_admin_group, sender=User.groups.through)
        # Cached roles and revisions (with a shared cache): see pacts.roles and pacts.revisions.
        m2m_changed.connect(roles.forget_members_roles, sender=User.groups.through)
        post_save.connect(roles.forget_group_roles, sender=Group)
        pre_delete.connect(roles.forget_group_roles, sender=Group)
        post_save.connect(roles.forget_user, sender=User)
        post_delete.connect(roles.forget_user, sender=User)
        pre_save.connect(revisions.forget_old_slug, sender=Agreement)
        post_delete.connect(revisions.forget_deleted, sender=Agreement)
        pre_create_historical_record.connect(reason_for_admin_changes)


def restore_reference_data(sender, app_config, using, apps=None, **kwargs):
    """Recreate parties and role groups after migrate and after a test flush.

    The data migration creates them once; `flush` (TransactionTestCase, live
    server tests) empties every table and then sends post_migrate again.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from pacts.models.party import country_codes
    from pacts.roles import ensure_roles

    apps = apps or global_apps  # flush sends post_migrate without a registry
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    apps.get_model("pacts", "Party").objects.using(using).bulk_create(
        [apps.get_model("pacts", "Party")(code=code) for code in country_codes()], ignore_conflicts=True
    )
    ensure_roles(apps, using=using)


def keep_staff_in_step_with_admin_group(sender, instance, action, reverse, pk_set, **kwargs):
    """`is_staff` (the Django admin's door) follows membership of the `admin` group."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    User = get_user_model()
    if reverse:
        if not Group.objects.filter(pk=instance.pk, name="admin").exists():
            return
        users = User.objects.filter(pk__in=pk_set) if pk_set else User.objects.filter(is_staff=True)
    else:
        users = User.objects.filter(pk=instance.pk)
    for user in users:
        is_admin = user.is_superuser or user.groups.filter(name="admin").exists()
        if user.is_staff != is_admin:
            User.objects.filter(pk=user.pk).update(is_staff=is_admin)
            if not reverse:
                instance.is_staff = is_admin
