"""Thin Typer command modules: parse options, call one service, render the result."""
