package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// signIn is one beta signIn record. Scalars are typed; nested objects and
// collections stay raw JSON and go to JSONB columns untouched, so members
// Graph adds later are kept.
type signIn struct {
	ID                                       string          `json:"id"`
	CreatedDateTime                          time.Time       `json:"createdDateTime"`
	Agent                                    json.RawMessage `json:"agent"`
	AppDisplayName                           string          `json:"appDisplayName"`
	AppID                                    string          `json:"appId"`
	AppOwnerTenantID                         string          `json:"appOwnerTenantId"`
	AppliedConditionalAccessPolicies         json.RawMessage `json:"appliedConditionalAccessPolicies"`
	AppliedEventListeners                    json.RawMessage `json:"appliedEventListeners"`
	AppTokenProtectionStatus                 string          `json:"appTokenProtectionStatus"`
	AuthenticationAppDeviceDetails           json.RawMessage `json:"authenticationAppDeviceDetails"`
	AuthenticationAppPolicyEvaluationDetails json.RawMessage `json:"authenticationAppPolicyEvaluationDetails"`
	AuthenticationContextClassReferences     json.RawMessage `json:"authenticationContextClassReferences"`
	AuthenticationDetails                    json.RawMessage `json:"authenticationDetails"`
	AuthenticationMethodsUsed                json.RawMessage `json:"authenticationMethodsUsed"`
	AuthenticationProcessingDetails          json.RawMessage `json:"authenticationProcessingDetails"`
	AuthenticationProtocol                   string          `json:"authenticationProtocol"`
	AuthenticationRequirement                string          `json:"authenticationRequirement"`
	AuthenticationRequirementPolicies        json.RawMessage `json:"authenticationRequirementPolicies"`
	AutonomousSystemNumber                   *int64          `json:"autonomousSystemNumber"`
	AzureResourceID                          string          `json:"azureResourceId"`
	ClientAppUsed                            string          `json:"clientAppUsed"`
	ClientCredentialType                     string          `json:"clientCredentialType"`
	ClientSessionID                          string          `json:"clientSessionId"`
	ConditionalAccessAudiences               json.RawMessage `json:"conditionalAccessAudiences"`
	ConditionalAccessStatus                  string          `json:"conditionalAccessStatus"`
	CorrelationID                            string          `json:"correlationId"`
	CrossTenantAccessType                    string          `json:"crossTenantAccessType"`
	DeviceDetail                             json.RawMessage `json:"deviceDetail"`
	FederatedCredentialID                    string          `json:"federatedCredentialId"`
	FlaggedForReview                         *bool           `json:"flaggedForReview"`
	GlobalSecureAccessIPAddress              string          `json:"globalSecureAccessIpAddress"`
	HomeTenantID                             string          `json:"homeTenantId"`
	HomeTenantName                           string          `json:"homeTenantName"`
	IncomingTokenType                        string          `json:"incomingTokenType"`
	IPAddress                                string          `json:"ipAddress"`
	IPAddressFromResourceProvider            string          `json:"ipAddressFromResourceProvider"`
	IsInteractive                            *bool           `json:"isInteractive"`
	IsTenantRestricted                       *bool           `json:"isTenantRestricted"`
	IsThroughGlobalSecureAccess              *bool           `json:"isThroughGlobalSecureAccess"`
	Location                                 json.RawMessage `json:"location"`
	ManagedServiceIdentity                   json.RawMessage `json:"managedServiceIdentity"`
	MfaDetail                                json.RawMessage `json:"mfaDetail"`
	NetworkLocationDetails                   json.RawMessage `json:"networkLocationDetails"`
	OriginalRequestID                        string          `json:"originalRequestId"`
	OriginalTransferMethod                   string          `json:"originalTransferMethod"`
	PrivateLinkDetails                       json.RawMessage `json:"privateLinkDetails"`
	ProcessingTimeInMilliseconds             *int64          `json:"processingTimeInMilliseconds"`
	ResourceDisplayName                      string          `json:"resourceDisplayName"`
	ResourceID                               string          `json:"resourceId"`
	ResourceOwnerTenantID                    string          `json:"resourceOwnerTenantId"`
	ResourceServicePrincipalID               string          `json:"resourceServicePrincipalId"`
	ResourceTenantID                         string          `json:"resourceTenantId"`
	RiskDetail                               string          `json:"riskDetail"`
	RiskEventTypesV2                         json.RawMessage `json:"riskEventTypes_v2"`
	RiskLevelAggregated                      string          `json:"riskLevelAggregated"`
	RiskLevelDuringSignIn                    string          `json:"riskLevelDuringSignIn"`
	RiskState                                string          `json:"riskState"`
	ServicePrincipalCredentialKeyID          string          `json:"servicePrincipalCredentialKeyId"`
	ServicePrincipalCredentialThumbprint     string          `json:"servicePrincipalCredentialThumbprint"`
	ServicePrincipalID                       string          `json:"servicePrincipalId"`
	ServicePrincipalName                     string          `json:"servicePrincipalName"`
	SessionID                                string          `json:"sessionId"`
	SessionLifetimePolicies                  json.RawMessage `json:"sessionLifetimePolicies"`
	SignInEventTypes                         []string        `json:"signInEventTypes"`
	SignInIdentifier                         string          `json:"signInIdentifier"`
	SignInIdentifierType                     string          `json:"signInIdentifierType"`
	SignInTokenProtectionStatus              string          `json:"signInTokenProtectionStatus"`
	Status                                   json.RawMessage `json:"status"`
	TokenIssuerName                          string          `json:"tokenIssuerName"`
	TokenIssuerType                          string          `json:"tokenIssuerType"`
	TokenProtectionStatusDetails             json.RawMessage `json:"tokenProtectionStatusDetails"`
	UniqueTokenIdentifier                    string          `json:"uniqueTokenIdentifier"`
	UserAgent                                string          `json:"userAgent"`
	UserDisplayName                          string          `json:"userDisplayName"`
	UserID                                   string          `json:"userId"`
	UserPrincipalName                        string          `json:"userPrincipalName"`
	UserType                                 string          `json:"userType"`

	// Parsed from the raw objects above for the convenience columns.
	status   signInStatus
	location signInLocation
	device   deviceDetail

	tenantID string // the connection's tenant
}

type signInStatus struct {
	ErrorCode         *int64 `json:"errorCode"`
	FailureReason     string `json:"failureReason"`
	AdditionalDetails string `json:"additionalDetails"`
}

type signInLocation struct {
	City            string `json:"city"`
	State           string `json:"state"`
	CountryOrRegion string `json:"countryOrRegion"`
}

type deviceDetail struct {
	DeviceID        string `json:"deviceId"`
	DisplayName     string `json:"displayName"`
	OperatingSystem string `json:"operatingSystem"`
	Browser         string `json:"browser"`
	IsCompliant     *bool  `json:"isCompliant"`
	IsManaged       *bool  `json:"isManaged"`
	TrustType       string `json:"trustType"`
}

// finish parses the nested objects the convenience columns read.
func (s *signIn) finish(tenantID string) error {
	s.tenantID = tenantID
	return errors.Join(parseObject(s.Status, &s.status), parseObject(s.Location, &s.location), parseObject(s.DeviceDetail, &s.device))
}

// parseObject decodes a nested object; absent or null leaves into empty.
func parseObject(raw json.RawMessage, into any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, into)
}

// signInPage reads a Graph collection page and hands each record to emit as
// soon as it is decoded, so a page is never held whole in memory. It
// returns the @odata.nextLink (empty on the last page). emit returns false
// to stop reading.
func decodeSignInPage(r io.Reader, tenantID string, emit func(*signIn) bool) (nextLink string, err error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return "", err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch tok {
		case "@odata.nextLink":
			if err := dec.Decode(&nextLink); err != nil {
				return "", err
			}
		case "value":
			if err := expectDelim(dec, '['); err != nil {
				return "", err
			}
			for dec.More() {
				rec := new(signIn)
				if err := dec.Decode(rec); err != nil {
					return "", err
				}
				if err := rec.finish(tenantID); err != nil {
					return "", err
				}
				if !emit(rec) {
					return "", nil
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return "", err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", err
			}
		}
	}
	return nextLink, expectDelim(dec, '}')
}

// decodeSignIn reads a single signIn (a get by id).
func decodeSignIn(r io.Reader, tenantID string) (*signIn, error) {
	rec := new(signIn)
	if err := json.NewDecoder(r).Decode(rec); err != nil {
		return nil, err
	}
	return rec, rec.finish(tenantID)
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("unexpected %v in a Graph response, want %q", tok, want)
	}
	return nil
}
