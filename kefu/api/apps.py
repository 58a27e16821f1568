from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kefu.api"
    label = "api"
