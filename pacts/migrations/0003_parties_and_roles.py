"""Reference data: every state as a Party, and the analyst/editor/admin groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_parties_and_roles(apps, schema_editor):
    from pacts.models.party import country_codes
    from pacts.roles import ensure_roles

    using = schema_editor.connection.alias
    Party = apps.get_model("pacts", "Party")
    Party.objects.using(using).bulk_create([Party(code=code) for code in country_codes()], ignore_conflicts=True)
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    ensure_roles(apps, using=using)


class Migration(migrations.Migration):
    dependencies = [
        ("pacts", "0002_rules_across_tables"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_parties_and_roles, migrations.RunPython.noop)]
