package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/grpc/proto"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/transform"
)

// column describes one sign-in column. Without get, the value is the
// signIn field named like the column (user_principal_name → UserPrincipalName).
type column struct {
	name        string
	typ         proto.ColumnType
	description string
	get         func(*signIn) any
}

// signInColumnDefs is the one column set every sign-in table shares: the
// full beta signIn schema in snake_case, then convenience columns.
var signInColumnDefs = []column{
	{name: "id", typ: proto.ColumnType_STRING, description: "The sign-in's request ID. Not always unique: Entra can log several events for one request (risk re-publish, MFA aggregation)."},
	{name: "created_date_time", typ: proto.ColumnType_TIMESTAMP, description: "When the sign-in started (UTC). Bound it in WHERE (>=, >, <=, <, =) to read only that window of the log."},
	{name: "sign_in_event_type", typ: proto.ColumnType_STRING, description: "The kind of sign-in: interactiveUser, nonInteractiveUser, servicePrincipal or managedIdentity.", get: func(s *signIn) any {
		if len(s.SignInEventTypes) == 0 {
			return nil
		}
		return s.SignInEventTypes[0]
	}},
	{name: "user_principal_name", typ: proto.ColumnType_STRING, description: "The user's UPN, lowercase; guests appear with their home UPN. Empty for service principal and managed identity sign-ins."},
	{name: "user_display_name", typ: proto.ColumnType_STRING, description: "The user's display name."},
	{name: "user_id", typ: proto.ColumnType_STRING, description: "The user's object ID."},
	{name: "user_type", typ: proto.ColumnType_STRING, description: "member or guest."},
	{name: "app_id", typ: proto.ColumnType_STRING, description: "The application (client) ID that asked for the token."},
	{name: "app_display_name", typ: proto.ColumnType_STRING, description: "The application's name, as shown in the Entra admin center."},
	{name: "app_owner_tenant_id", typ: proto.ColumnType_STRING, description: "The tenant that owns the application."},
	{name: "ip_address", typ: proto.ColumnType_STRING, description: "The client's IP address (IPv4 or IPv6). Text, because Entra can mask part of it (x.x.x.XXX)."},
	{name: "ip_address_from_resource_provider", typ: proto.ColumnType_STRING, description: "The IP address the resource provider saw, when it reports one."},
	{name: "client_app_used", typ: proto.ColumnType_STRING, description: "The client used: Browser, Mobile Apps and Desktop clients, Exchange ActiveSync, IMAP (legacy authentication) and others."},
	{name: "user_agent", typ: proto.ColumnType_STRING, description: "The client's user agent string."},
	{name: "correlation_id", typ: proto.ColumnType_STRING, description: "The ID the client sent with the request; joins the sign-in to its other events."},
	{name: "original_request_id", typ: proto.ColumnType_STRING, description: "The request ID of the first request in the authentication sequence."},
	{name: "session_id", typ: proto.ColumnType_STRING, description: "The session the sign-in belongs to."},
	{name: "client_session_id", typ: proto.ColumnType_STRING, description: "The client's own session ID, when it sends one."},
	{name: "unique_token_identifier", typ: proto.ColumnType_STRING, description: "The token's unique identifier; joins to SignInActivityId in Microsoft Graph activity logs."},
	{name: "conditional_access_status", typ: proto.ColumnType_STRING, description: "Conditional Access outcome: success, failure or notApplied."},
	{name: "conditional_access_audiences", typ: proto.ColumnType_JSON, description: "The audiences Conditional Access evaluated for this sign-in."},
	{name: "applied_conditional_access_policies", typ: proto.ColumnType_JSON, description: "Each Conditional Access policy evaluated, with its result and controls. Empty unless the app can read policies (Policy.Read.All)."},
	{name: "is_interactive", typ: proto.ColumnType_BOOL, description: "True when the user presented a credential (an interactive sign-in)."},
	{name: "sign_in_event_types", typ: proto.ColumnType_JSON, description: "All event types of the sign-in, as Graph lists them."},
	{name: "cross_tenant_access_type", typ: proto.ColumnType_STRING, description: "How the sign-in crossed tenants: none, b2bCollaboration, b2bDirectConnect, microsoftSupport, serviceProvider, passthrough (comma-separated when several)."},
	{name: "home_tenant_id", typ: proto.ColumnType_STRING, description: "The tenant the user belongs to; differs from resource_tenant_id for guests and cross-tenant access."},
	{name: "home_tenant_name", typ: proto.ColumnType_STRING, description: "The name of the user's home tenant, when Entra shares it."},
	{name: "resource_tenant_id", typ: proto.ColumnType_STRING, description: "The tenant of the resource signed in to."},
	{name: "resource_id", typ: proto.ColumnType_STRING, description: "The application ID of the resource signed in to."},
	{name: "resource_display_name", typ: proto.ColumnType_STRING, description: "The name of the resource signed in to."},
	{name: "resource_service_principal_id", typ: proto.ColumnType_STRING, description: "The object ID of the resource's service principal."},
	{name: "resource_owner_tenant_id", typ: proto.ColumnType_STRING, description: "The tenant that owns the resource."},
	{name: "service_principal_id", typ: proto.ColumnType_STRING, description: "For service principal and managed identity sign-ins, the object ID of the identity that signed in."},
	{name: "service_principal_name", typ: proto.ColumnType_STRING, description: "For service principal and managed identity sign-ins, the identity's name."},
	{name: "service_principal_credential_key_id", typ: proto.ColumnType_STRING, description: "The key ID of the credential the service principal used."},
	{name: "service_principal_credential_thumbprint", typ: proto.ColumnType_STRING, description: "The thumbprint of the certificate the service principal used."},
	{name: "federated_credential_id", typ: proto.ColumnType_STRING, description: "The federated identity credential used, for workload identity federation."},
	{name: "managed_service_identity", typ: proto.ColumnType_JSON, description: "For managed identity sign-ins: msiType, associatedResourceId, federatedTokenId, federatedTokenIssuer."},
	{name: "azure_resource_id", typ: proto.ColumnType_STRING, description: "The Azure resource of a managed identity sign-in."},
	{name: "client_credential_type", typ: proto.ColumnType_STRING, description: "The credential an app presented: clientSecret, certificate, clientAssertion, federatedIdentityCredential, managedIdentity or none."},
	{name: "token_issuer_type", typ: proto.ColumnType_STRING, description: "Who issued the token: AzureAD, ADFederationServices, AzureADBackupAuth and others."},
	{name: "token_issuer_name", typ: proto.ColumnType_STRING, description: "The name of the identity provider that issued the token."},
	{name: "incoming_token_type", typ: proto.ColumnType_STRING, description: "The token presented: primaryRefreshToken, refreshToken, saml20, remoteDesktopToken, none and others."},
	{name: "authentication_requirement", typ: proto.ColumnType_STRING, description: "singleFactorAuthentication or multiFactorAuthentication: the strongest requirement the sign-in had to meet."},
	{name: "authentication_requirement_policies", typ: proto.ColumnType_JSON, description: "What set the authentication requirement (Conditional Access, per-user MFA, risk policy)."},
	{name: "authentication_details", typ: proto.ColumnType_JSON, description: "Each authentication step: method, result and time."},
	{name: "authentication_methods_used", typ: proto.ColumnType_JSON, description: "The authentication methods used, as a list."},
	{name: "authentication_processing_details", typ: proto.ColumnType_JSON, description: "Key/value details of how the sign-in was processed (legacy TLS, CAE token, ...)."},
	{name: "authentication_protocol", typ: proto.ColumnType_STRING, description: "The protocol used: oAuth2, ropc, wsFederation, saml20, deviceCode, none and others."},
	{name: "authentication_context_class_references", typ: proto.ColumnType_JSON, description: "The authentication contexts of the sign-in."},
	{name: "authentication_app_device_details", typ: proto.ColumnType_JSON, description: "The Authenticator app's device, when it was used."},
	{name: "authentication_app_policy_evaluation_details", typ: proto.ColumnType_JSON, description: "How Authenticator app policies were evaluated."},
	{name: "applied_event_listeners", typ: proto.ColumnType_JSON, description: "The authentication event listeners that ran."},
	{name: "original_transfer_method", typ: proto.ColumnType_STRING, description: "deviceCodeFlow or authenticationTransfer when the sign-in was transferred between devices."},
	{name: "session_lifetime_policies", typ: proto.ColumnType_JSON, description: "The session lifetime policies applied."},
	{name: "mfa_detail", typ: proto.ColumnType_JSON, description: "Deprecated MFA details (authMethod, authDetail); see authentication_details."},
	{name: "network_location_details", typ: proto.ColumnType_JSON, description: "The network types and named locations the sign-in came from."},
	{name: "private_link_details", typ: proto.ColumnType_JSON, description: "The private link used, if any."},
	{name: "autonomous_system_number", typ: proto.ColumnType_INT, description: "The autonomous system number (ASN) of the client's network."},
	{name: "global_secure_access_ip_address", typ: proto.ColumnType_STRING, description: "The client's IP address when it came through Global Secure Access."},
	{name: "is_through_global_secure_access", typ: proto.ColumnType_BOOL, description: "True when the sign-in came through Global Secure Access."},
	{name: "is_tenant_restricted", typ: proto.ColumnType_BOOL, description: "True when tenant restrictions applied."},
	{name: "flagged_for_review", typ: proto.ColumnType_BOOL, description: "True when a user flagged the sign-in for an admin to review."},
	{name: "processing_time_in_milliseconds", typ: proto.ColumnType_INT, description: "How long Entra took to process the sign-in."},
	{name: "sign_in_identifier", typ: proto.ColumnType_STRING, description: "The identifier the user typed (UPN, phone number, ...)."},
	{name: "sign_in_identifier_type", typ: proto.ColumnType_STRING, description: "The kind of identifier typed."},
	{name: "app_token_protection_status", typ: proto.ColumnType_STRING, description: "Deprecated: whether the app token was bound (see token_protection_status_details)."},
	{name: "sign_in_token_protection_status", typ: proto.ColumnType_STRING, description: "Deprecated: whether the sign-in session token was bound (see token_protection_status_details)."},
	{name: "token_protection_status_details", typ: proto.ColumnType_JSON, description: "Token protection (binding) status of the sign-in session."},
	{name: "agent", typ: proto.ColumnType_JSON, description: "For AI agent sign-ins: agentType, agentSubjectType, agentSubjectParentId, parentAppId."},
	{name: "status", typ: proto.ColumnType_JSON, description: "The outcome: errorCode (0 is success), failureReason, additionalDetails."},
	{name: "status_error_code", typ: proto.ColumnType_INT, description: "The sign-in's error code: 0 is success; otherwise an AADSTS code such as 50126 (bad password) or 53003 (blocked by Conditional Access).", get: func(s *signIn) any { return ptrValue(s.status.ErrorCode) }},
	{name: "status_failure_reason", typ: proto.ColumnType_STRING, description: "Why the sign-in failed, in words.", get: func(s *signIn) any { return nullIfEmpty(s.status.FailureReason) }},
	{name: "status_additional_details", typ: proto.ColumnType_STRING, description: "More about the outcome, such as how MFA was met.", get: func(s *signIn) any { return nullIfEmpty(s.status.AdditionalDetails) }},
	{name: "location", typ: proto.ColumnType_JSON, description: "Where the sign-in came from: city, state, countryOrRegion, geoCoordinates."},
	{name: "location_city", typ: proto.ColumnType_STRING, description: "The city the sign-in came from.", get: func(s *signIn) any { return nullIfEmpty(s.location.City) }},
	{name: "location_state", typ: proto.ColumnType_STRING, description: "The state or province the sign-in came from.", get: func(s *signIn) any { return nullIfEmpty(s.location.State) }},
	{name: "location_country_or_region", typ: proto.ColumnType_STRING, description: "The two-letter country or region code the sign-in came from (US, GB, ...).", get: func(s *signIn) any { return nullIfEmpty(s.location.CountryOrRegion) }},
	{name: "device_detail", typ: proto.ColumnType_JSON, description: "The device: deviceId, displayName, operatingSystem, browser, isCompliant, isManaged, trustType."},
	{name: "device_id", typ: proto.ColumnType_STRING, description: "The device's ID in Entra, for registered devices.", get: func(s *signIn) any { return nullIfEmpty(s.device.DeviceID) }},
	{name: "device_operating_system", typ: proto.ColumnType_STRING, description: "The device's operating system (Windows10, MacOs, Ios, Android, ...).", get: func(s *signIn) any { return nullIfEmpty(s.device.OperatingSystem) }},
	{name: "device_browser", typ: proto.ColumnType_STRING, description: "The browser and its version.", get: func(s *signIn) any { return nullIfEmpty(s.device.Browser) }},
	{name: "device_is_compliant", typ: proto.ColumnType_BOOL, description: "True when the device is compliant with Intune policy.", get: func(s *signIn) any { return ptrValue(s.device.IsCompliant) }},
	{name: "device_is_managed", typ: proto.ColumnType_BOOL, description: "True when the device is managed.", get: func(s *signIn) any { return ptrValue(s.device.IsManaged) }},
	{name: "risk_level_aggregated", typ: proto.ColumnType_STRING, description: "The aggregated risk level: none, low, medium, high, or hidden without Entra ID P2."},
	{name: "risk_level_during_sign_in", typ: proto.ColumnType_STRING, description: "The risk level during sign-in: none, low, medium, high, or hidden without Entra ID P2."},
	{name: "risk_state", typ: proto.ColumnType_STRING, description: "The risk state: none, atRisk, confirmedSafe, remediated, dismissed, confirmedCompromised."},
	{name: "risk_detail", typ: proto.ColumnType_STRING, description: "What last changed the risk state (adminConfirmedSigninSafe, userPassedMFADrivenByRiskBasedPolicy, hidden, ...)."},
	{name: "risk_event_types_v2", typ: proto.ColumnType_JSON, description: "The risk detections of the sign-in (unfamiliarFeatures, anonymizedIPAddress, ...)."},
	{name: "tenant_id", typ: proto.ColumnType_STRING, description: "The tenant of the connection that read this row; tells tenants apart in an aggregator.", get: func(s *signIn) any { return s.tenantID }},
}

// columnGetters reads each column's value from a record, by column name.
var columnGetters = func() map[string]func(*signIn) any {
	m := make(map[string]func(*signIn) any, len(signInColumnDefs))
	for _, c := range signInColumnDefs {
		m[c.name] = c.get
		if c.get == nil {
			m[c.name] = fieldAccessor(c.name)
		}
	}
	return m
}()

// signInColumns builds the SDK columns. Each transform is one cached
// accessor: the SDK's FromField resolves field names by reflection on
// every row, which costs more than the whole decoding.
func signInColumns() []*plugin.Column {
	cols := make([]*plugin.Column, 0, len(signInColumnDefs))
	for _, c := range signInColumnDefs {
		get := columnGetters[c.name]
		cols = append(cols, &plugin.Column{
			Name:        c.name,
			Type:        c.typ,
			Description: c.description,
			Transform: transform.From(func(_ context.Context, d *transform.TransformData) (any, error) {
				return get(d.HydrateItem.(*signIn)), nil
			}),
		})
	}
	return cols
}

// fieldAccessor returns a getter for the signIn field named like the column,
// with Graph's empty values ("" strings, null objects, nil pointers) as NULL.
func fieldAccessor(columnName string) func(*signIn) any {
	name := ""
	for _, part := range strings.Split(columnName, "_") {
		switch part {
		case "id", "ip":
			name += strings.ToUpper(part)
		default:
			name += strings.ToUpper(part[:1]) + part[1:]
		}
	}
	f, ok := reflect.TypeOf(signIn{}).FieldByName(name)
	if !ok {
		panic(fmt.Sprintf("column %s has no signIn field %s", columnName, name))
	}
	idx := f.Index[0]
	switch f.Type {
	case reflect.TypeOf(""):
		return func(s *signIn) any { return nullIfEmpty(reflect.ValueOf(s).Elem().Field(idx).String()) }
	case reflect.TypeOf(json.RawMessage{}):
		return func(s *signIn) any {
			raw := reflect.ValueOf(s).Elem().Field(idx).Bytes()
			if len(raw) == 0 || string(raw) == "null" {
				return nil
			}
			return json.RawMessage(raw)
		}
	case reflect.TypeOf(time.Time{}), reflect.TypeOf([]string{}):
		return func(s *signIn) any { return reflect.ValueOf(s).Elem().Field(idx).Interface() }
	case reflect.TypeOf((*bool)(nil)), reflect.TypeOf((*int64)(nil)):
		return func(s *signIn) any {
			v := reflect.ValueOf(s).Elem().Field(idx)
			if v.IsNil() {
				return nil
			}
			return v.Elem().Interface()
		}
	}
	panic(fmt.Sprintf("column %s: no accessor for %s", columnName, f.Type))
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ptrValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
