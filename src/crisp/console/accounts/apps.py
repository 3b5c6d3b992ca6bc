from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "crisp.console.accounts"
    label = "accounts"
    verbose_name = "Accounts: teams, roles, database grants, API tokens"

    def ready(self) -> None:
        # Registers the token scheme with drf-spectacular (extensions register on import).
        from crisp.console.accounts import schema  # noqa: F401
