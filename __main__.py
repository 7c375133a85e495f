"""arm64-runners: ARM64 self-hosted GitHub Actions runners from one stack file (see README.md)."""

from components.program import main

main()
