from django.urls import path

from kefu.annual import views

app_name = "annual"
urlpatterns = [
    path("", views.cycles, name="cycles"),
    path("mine/", views.mine, name="mine"),
    path("<int:year>/", views.board, name="board"),
    path("<int:year>/transition/", views.transition, name="transition"),
    path("results/<int:pk>/grade/", views.grade, name="grade"),
    path("results/<int:pk>/achievements/", views.achievements, name="achievements"),
]
