"""FastReadSerializerMixin presents exactly what DRF presents, only cheaper."""

import datetime
import json

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Value
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from inventory_site.api.serializers import FastReadSerializerMixin
from tests.factories import UserFactory


class UserShape(serializers.ModelSerializer):
    group_count = serializers.IntegerField(read_only=True)  # an annotation, absent on some querysets
    label = serializers.SerializerMethodField()
    full_name = serializers.CharField(source="get_full_name", read_only=True)  # a method
    joined_in_paris = serializers.DateTimeField(
        source="date_joined", read_only=True, default_timezone=datetime.timezone(datetime.timedelta(hours=1))
    )
    custom = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = (
            "id",
            "username",
            "is_staff",
            "last_login",
            "date_joined",
            "group_count",
            "label",
            "full_name",
            "joined_in_paris",
            "custom",
            "password",
        )
        extra_kwargs = {"password": {"write_only": True}}

    def get_label(self, user):
        return f"<{user.username}>"

    def get_custom(self, user):
        return None


class FastUserShape(FastReadSerializerMixin, UserShape):
    pass


def render(serializer_class, rows):
    return json.loads(JSONRenderer().render(serializer_class(rows, many=True).data))


@pytest.mark.django_db
def test_same_output_as_drf_with_and_without_annotations():
    UserFactory(username="ann", first_name="Ann", last_name="Lee", last_login=timezone.now())
    UserFactory(username="bob")
    users = get_user_model().objects.order_by("pk")
    for rows in (list(users), list(users.annotate(group_count=Value(3)))):
        assert render(FastUserShape, rows) == render(UserShape, rows)
    fast = render(FastUserShape, list(users))
    assert "group_count" not in fast[0] and "password" not in fast[0]
    assert fast[0]["full_name"] == "Ann Lee" and fast[0]["label"] == "<ann>"
    assert fast[1]["last_login"] is None and fast[0]["date_joined"].endswith("Z")
    assert fast[0]["joined_in_paris"].endswith("+01:00")


def test_timestamps_naive_and_aware_match_drf():
    user_model = get_user_model()
    aware = user_model(id=1, username="a", date_joined=datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC))
    naive = user_model(id=2, username="b", date_joined=datetime.datetime(2026, 1, 2, 3, 4, 5))
    assert render(FastUserShape, [aware, naive]) == render(UserShape, [aware, naive])
    assert render(FastUserShape, [aware])[0]["date_joined"] == "2026-01-02T03:04:05.000006Z"


def test_plain_serializer_over_dicts_falls_back_to_drf():
    class Node(FastReadSerializerMixin, serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()

    assert Node([{"id": 1, "name": "x"}], many=True).data == [{"id": 1, "name": "x"}]
