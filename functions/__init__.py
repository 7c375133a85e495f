"""Code that runs in the cloud outside Pulumi (AWS Lambda functions), one folder per function."""
