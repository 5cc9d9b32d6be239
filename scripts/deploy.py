"""Deploy CopyrightRegister for an operator on any network ape knows.

    ape run deploy --network ethereum:sepolia:alchemy --account my-operator-key
    ape run deploy --network ethereum:local:foundry --account TEST::0

The deploying account becomes the register's admin (it can grant and revoke ATTESTOR_ROLE) and
its first attestor; `--attestor` grants ATTESTOR_ROLE to another address as well (the backend's
operator key, for example). Prints the contract address on stdout.
"""

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option
from eth_utils import is_address, to_checksum_address


def _address(ctx, param, value):
    if value is None:
        return None
    if not is_address(value):
        raise click.BadParameter(f"{value!r} is not an Ethereum address (0x followed by 40 hex digits)")
    return to_checksum_address(value)


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--attestor", default=None, callback=_address, help="Also grant ATTESTOR_ROLE to this address.")
def cli(account, attestor):
    register = project.CopyrightRegister.deploy(sender=account)
    if attestor:
        register.grantRole(register.ATTESTOR_ROLE(), attestor, sender=account)
    click.echo(register.address)
