import hashlib
import secrets

from django.conf import settings
from django.db import models


class FeedTokenQuerySet(models.QuerySet):
    def issue(self, user):
        """Give `user` a new secret token, replacing any old one; return the secret, shown once."""
        secret = secrets.token_urlsafe(32)
        self.filter(user=user).delete()
        self.create(user=user, token_hash=FeedToken.hash(secret))
        return secret

    def user_for(self, secret):
        """The active user a secret opens feeds for, or None."""
        if not secret or len(secret) > 100:
            return None
        token = self.select_related("user").filter(token_hash=FeedToken.hash(secret)).first()
        return token.user if token and token.user.is_active else None


class FeedToken(models.Model):
    """A user's secret for feed readers and calendars (`?token=`); only its hash is stored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FeedTokenQuerySet.as_manager()

    def __str__(self):
        return f"feed token of {self.user}"

    @staticmethod
    def hash(secret):
        return hashlib.sha256(secret.encode()).hexdigest()
