"""kefu serve sub-commands (placeholder until implemented)."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    pass
