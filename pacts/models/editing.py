"""What every record people edit shares: a version that refuses lost updates, and a creation key.

Two editors open the same event. The first save turns version 3 into 4 with
`UPDATE … SET row_version = 4 WHERE id = … AND row_version = 3`; the second
save, still carrying version 3, matches no row and raises `EditConflict`
instead of silently overwriting the first. Views answer that with 409, both
versions side by side and the second editor's input kept.

A create form carries a random `creation_key`, unique in the table: a double
click or a replayed POST finds the record the first request made instead of
making another.
"""

from django.db import models


def stamped(record, user, reason):
    """A record about to be written, marked with who writes it and why, for its history."""
    record._history_user = user
    record._change_reason = reason
    return record


class EditConflict(Exception):
    """Someone saved or deleted the record since this copy of it was read."""

    def __init__(self, instance):
        self.instance = instance
        super().__init__(f"{type(instance).__name__} {instance.pk} changed since version {instance.row_version}")


class EditedQuerySet(models.QuerySet):
    def created_with(self, key):
        """The record a create form with this key already made, or None."""
        if key is None:
            return None
        return self.filter(creation_key=key).first()


class Edited(models.Model):
    """Abstract base of records people edit: optimistic locking and idempotent creation."""

    row_version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    creation_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            return super().save(*args, **kwargs)
        read = self.row_version
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "row_version" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "row_version"]
        self._read_row_version = read
        self.row_version = read + 1
        try:
            return super().save(*args, **kwargs)
        except BaseException:
            self.row_version = read
            raise
        finally:
            del self._read_row_version

    def _do_update(self, base_qs, using, pk_val, values, *args, **kwargs):
        read = getattr(self, "_read_row_version", None)
        if read is None:
            return super()._do_update(base_qs, using, pk_val, values, *args, **kwargs)
        updated = super()._do_update(base_qs.filter(row_version=read), using, pk_val, values, *args, **kwargs)
        if not updated:
            # Either a newer version is stored or the record was deleted: both
            # mean this copy is stale, and Django would otherwise INSERT it anew.
            raise EditConflict(self)
        return updated

    def stored_version(self):
        """The record as it is in the database now, or None if it was deleted."""
        return type(self)._base_manager.filter(pk=self.pk).first()
