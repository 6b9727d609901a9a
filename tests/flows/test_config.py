import pytest

from kith.flows.config import TEMPLATE, ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "kith.toml"
    path.write_text(text)
    return path


def test_the_init_template_is_a_valid_config(tmp_path):
    config = load_config(write(tmp_path, TEMPLATE))
    assert (config.schedule.cron, config.schedule.timezone) == ("0 3 * * *", "America/New_York")
    assert config.db_path == tmp_path / "kith.duckdb"
    assert [s.kind for s in config.sources] == ["files"]


def test_config_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KITH_CONFIG", str(write(tmp_path, TEMPLATE)))
    assert load_config().path == tmp_path / "kith.toml"


def test_owner_addresses_are_normalised(tmp_path):
    config = load_config(write(tmp_path, '[owner]\nemails = [" Me@Example.COM "]\n'))
    assert config.owner.emails == ("me@example.com",)


def test_owner_chat_names_and_phones(tmp_path):
    config = load_config(write(tmp_path, '[owner]\nphone_region = "GB"\n'
                                         'names = [" Sam Rivera "]\nphones = ["07700 900123"]\n'))
    assert config.owner.chat_names == ("Sam Rivera", "+447700900123")


def test_an_owner_phone_that_is_no_number_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"owner.phones\[0\]: 'call me' is not a phone number"):
        load_config(write(tmp_path, '[owner]\nphones = ["call me"]\n'))


def test_relative_source_paths_are_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, '[[sources]]\nname = "cards"\nkind = "files"\n'
                                         'paths = ["cards"]\n'))
    assert config.source("cards").settings["paths"] == [str(tmp_path / "cards")]


@pytest.mark.parametrize("text, message", [
    ("[owner]\nemail = []\n", "owner: unknown key 'email'"),
    ("[owner]\nemails = ['not an address']\n", "owner.emails[0]"),
    ("[owner]\ntimezone = 'Mars/Olympus'\n", "owner.timezone: 'Mars/Olympus'"),
    ("[schedule]\ncron = 'every night'\n", "schedule.cron: 'every night' is not a cron"),
    ("[transforms]\nhalf_life_days = -3\n", "transforms.half_life_days"),
    ("[[sources]]\nname = 'x'\nkind = 'ftp'\n", "sources[0].kind: 'ftp' is not one of"),
    ("[[sources]]\nname = 'm'\nkind = 'imap'\nhost = 'h'\nuser = 'u'\n",
     "sources[0] (m): give exactly one of password_env"),
    ("[[sources]]\nname = 'm'\nkind = 'imap'\nhost = 'h'\nuser = 'u'\npassword = 'hunter2'\n",
     "unknown key 'password'"),
    ("[[sources]]\nname = 'm'\nkind = 'imap'\nhots = 'h'\n", "unknown key 'hots'"),
    ("[[sources]]\nname = 'f'\nkind = 'files'\n", "sources[0] (f).paths: missing"),
    ("[[sources]]\nname = 'm'\nkind = 'imap'\nhost = 'h'\nuser = 'u'\nport = '993'\n"
     "password_env = 'P'\n", "sources[0] (m).port: '993' should be a int"),
    ("[[sources]]\nname='a'\nkind='files'\npaths=['x']\n[[sources]]\nname='a'\nkind='files'\n"
     "paths=['y']\n", "two sources are named 'a'"),
    ("not toml = = 1", "not valid TOML"),
])
def test_invalid_config_names_the_key_and_the_problem(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as info:
        load_config(write(tmp_path, text))
    assert message in str(info.value)


def test_missing_config_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="kith init"):
        load_config(tmp_path / "nope.toml")
