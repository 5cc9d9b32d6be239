# pragma version ~=0.4.3
"""
@title Test CPY token (test only)
@license GNU Affero General Public License v3.0 or later
@notice snekmate's ERC-20 with an open `mint` role held by the deployer;
        stands in for the CPY token in the marketplace tests.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__():
    """
    @dev Deploys "Copytrack Test", "CPY", 18 decimals; the deployer may mint.
    """
    ownable.__init__()
    erc20.__init__("Copytrack Test", "CPY", 18, "Copytrack Test", "1")
