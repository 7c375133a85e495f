"""make remint / make refresh-image find the right URNs in a stack export."""

import json

from tools import urns

STATE = {
    "deployment": {
        "resources": [
            {
                "urn": "urn:pulumi:dev::arm64-runners::pulumi:pulumi:Stack::arm64-runners-dev",
                "type": "pulumi:pulumi:Stack",
            },
            {
                "urn": "urn:a::reg0",
                "type": "pulumi-python:dynamic:Resource",
                "outputs": {
                    "runner_name": "arm64-dev-graviton-0",
                    "token": {
                        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                        "ciphertext": "x",
                    },
                },
            },
            {
                "urn": "urn:a::reg1",
                "type": "pulumi-python:dynamic:Resource",
                "outputs": {"runner_name": "arm64-dev-graviton-1", "token": "x"},
            },
            {
                "urn": "urn:a::pin",
                "type": "pulumi-python:dynamic:Resource",
                "outputs": {"candidate": "ami-1", "value": "ami-0"},
            },
        ]
    }
}


def test_registration_and_pins(tmp_path, capsys):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(STATE))
    assert urns.main(["--stack", "dev", "--state", str(state), "registration", "arm64-dev-graviton-1"]) == 0
    assert capsys.readouterr().out.strip() == "urn:a::reg1"
    assert urns.main(["--stack", "dev", "--state", str(state), "image-pins", "--as-replace-flags"]) == 0
    assert capsys.readouterr().out.strip() == "--replace=urn:a::pin"
    assert urns.main(["--stack", "dev", "--state", str(state), "registration", "nope"]) == 1
