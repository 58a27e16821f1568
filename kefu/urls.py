from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog, set_language

from kefu.api.api import api

urlpatterns = [
    path("", include("kefu.core.urls")),
    path("people/", include("kefu.people.urls")),
    path("uniforms/", include("kefu.uniforms.urls")),
    path("procurement/", include("kefu.procurement.urls")),
    path("service/", include("kefu.service.urls")),
    path("evaluations/", include("kefu.evaluations.urls")),
    path("annual/", include("kefu.annual.urls")),
    path("inspections/", include("kefu.inspections.urls")),
    path("integrations/", include("kefu.integrations.urls")),
    path("api/v1/", api.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("i18n/js/", login_not_required(JavaScriptCatalog.as_view()), name="javascript-catalog"),
]
