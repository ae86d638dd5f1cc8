from django.urls import re_path

from karbor_horizon.verifications import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
    re_path(r'^(?P<verification_id>[^/]+)/$', views.DetailView.as_view(),
            name='detail'),
]
