declare module "virtual:abis" {
  import type { Abi } from "viem";
  export const CopyrightRegister: Abi;
  export const CPYSale: Abi;
  export const CPYToken: Abi;
  export const LicenseMarket: Abi;
}
