import { createHash } from "node:crypto";
import type { WebserviceProvider } from "./context.ts";
import { serviceAccount } from "./service-context.ts";
import type { SimAccount } from "./sim-accounts.ts";

export interface LoginState {
  hsaChallengeRequired: boolean;
  hsaTrustedBrowser: boolean;
  isRepairNeeded: boolean;
  extendedLogin: boolean;
}

const hsaVersion = (account: SimAccount): number => ({ none: 0, "2sv": 1, hsa2: 2 })[account.config.mfa.kind];

/** The 2-letter country of requestInfo from the account's 3-letter code (rough, cosmetic). */
const country2 = (code: string): string => (code.length === 2 ? code : code.slice(0, 2)).toUpperCase();

/** `webservices`: every URL points back at the simulator origin; service modules add their own entries. */
export function webservices(
  account: SimAccount,
  origin: string,
  providers: readonly WebserviceProvider[] = [],
): Record<string, unknown> {
  const services: Record<string, unknown> = {
    findme: { url: origin, status: "active" },
    ckdatabasews: { url: origin, status: "active", pcsRequired: true },
    account: { url: origin, iCloudEnv: { shortId: "p", vipSuffix: "prod" }, status: "active" },
  };
  // Invented by this project (Apple has no call-history web service): present only for accounts
  // whose scenario has a `calls` section, so the bridge enables call history only against the simulator.
  if (account.config.calls !== undefined) services["callhistory"] = { url: origin, status: "active" };
  for (const provider of providers) Object.assign(services, provider(serviceAccount(account), origin));
  return services;
}

/** The accountLogin / validate body (section 1.10 of the protocol reference). */
export function accountLoginBody(
  account: SimAccount,
  origin: string,
  partition: number,
  state: LoginState,
  providers: readonly WebserviceProvider[] = [],
): unknown {
  const { config } = account;
  const digest = createHash("sha256").update(account.dsid).digest("hex");
  return {
    dsInfo: {
      lastName: config.last_name,
      iCDPEnabled: false,
      tantorMigrated: true,
      dsid: account.dsid,
      hsaEnabled: config.mfa.kind === "hsa2",
      ironcadeMigrated: true,
      locale: "en-us_US",
      brZoneConsolidated: false,
      isManagedAppleID: false,
      isCustomDomainsFeaturePreviewEnabled: false,
      isHideMyEmailFeatureAvailable: true,
      gilligan_invited: true,
      appleIdAliases: [],
      hsaVersion: hsaVersion(account),
      ubiquityEOLEnabled: true,
      isPaidDeveloper: false,
      countryCode: config.country,
      notificationId: `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`,
      primaryEmailVerified: true,
      aDsID: `001${digest.slice(0, 20).toUpperCase()}`,
      locked: false,
      hasICloudQualifyingDevice: true,
      primaryEmail: account.appleId,
      appleIdEntries: [{ isPrimary: true, type: "EMAIL", value: account.appleId }],
      gilligan_enabled: true,
      isWebAccessAllowed: !config.web_access_disabled,
      fullName: `${account.firstName} ${config.last_name}`,
      mailFlags: {
        isThreadingAvailable: false,
        isSearchV2Provisioned: false,
        sCKMail: false,
        isMppSupportedInCurrentCountry: true,
      },
      languageCode: "en-us",
      appleId: account.appleId,
      hasUnreleasedOS: false,
      analyticsOptInStatus: false,
      firstName: account.firstName,
      iCloudAppleIdAlias: "",
      notesMigrated: true,
      beneficiaryInfo: { isBeneficiary: false },
      hasPaymentInfo: false,
      pcsDeleted: false,
      appleIdAlias: "",
      brMigrated: true,
      statusCode: 2,
      familyEligible: true,
    },
    hasMinimumDeviceForPhotosWeb: true,
    iCDPEnabled: false,
    webservices: webservices(account, origin, providers),
    pcsEnabled: true,
    termsUpdateNeeded: false,
    configBag: {
      urls: {
        accountCreateUI: "https://appleid.apple.com/widget/account/?widgetKey=simulator#!create",
        accountLoginUI: "https://idmsa.apple.com/appleauth/auth/signin?widgetKey=simulator",
        accountLogin: `${origin}/setup/ws/1/accountLogin`,
        accountRepairUI: "https://appleid.apple.com/widget/account/?widgetKey=simulator#!repair",
        downloadICloudTerms: `${origin}/setup/ws/1/downloadLiteTerms`,
        repairDone: `${origin}/setup/ws/1/repairDone`,
        accountAuthorizeUI: "https://idmsa.apple.com/appleauth/auth/authorize/signin?client_id=simulator",
        vettingUrlForEmail: "https://id.apple.com/IDMSEmailVetting/vetShareEmail",
        accountCreate: `${origin}/setup/ws/1/createLiteAccount`,
        getICloudTerms: `${origin}/setup/ws/1/getTerms`,
        vettingUrlForPhone: "https://id.apple.com/IDMSEmailVetting/vetSharePhone",
      },
      accountCreateEnabled: true,
    },
    hsaTrustedBrowser: state.hsaTrustedBrowser,
    appsOrder: ["mail", "contacts", "calendar", "photos", "iclouddrive", "notes3", "reminders", "find"],
    version: 2,
    isExtendedLogin: state.extendedLogin,
    pcsServiceIdentitiesIncluded: true,
    isRepairNeeded: state.isRepairNeeded,
    hsaChallengeRequired: state.hsaChallengeRequired,
    requestInfo: { country: country2(config.country), timeZone: "EST", region: "NC" },
    pcsDeleted: false,
    iCloudInfo: { SafariBookmarksHasMigratedToCloudKit: true },
    apps: {
      calendar: {},
      reminders: {},
      find: { canLaunchWithOneFactor: true },
      photos: {},
      contacts: {},
      mail: { isCKMail: false },
    },
    userPartition: partition,
    ckPartition: partition,
  };
}
