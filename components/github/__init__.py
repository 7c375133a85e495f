"""GitHub side of the runners: registration lifecycle, REST client, runner group and variable."""

from components.github.registration import RunnerRegistration, RunnerRegistrationArgs

__all__ = ["RunnerRegistration", "RunnerRegistrationArgs"]
