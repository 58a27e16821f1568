from ninja import NinjaAPI

api = NinjaAPI(title="Kefu API", version="1", urls_namespace="api")
