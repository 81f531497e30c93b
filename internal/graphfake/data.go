package graphfake

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"
)

// templates.json holds one realistic beta signIn per kind; generated rows are
// copies of these with the identifying and varying properties replaced.
//
//go:embed templates.json
var templatesJSON []byte

// Event types, as Graph spells them in signInEventTypes.
const (
	Interactive      = "interactiveUser"
	NonInteractive   = "nonInteractiveUser"
	ServicePrincipal = "servicePrincipal"
	ManagedIdentity  = "managedIdentity"
)

// Record is one generated sign-in: its position in the log (0 is the newest),
// its time and kind, and its beta JSON properties.
type Record struct {
	Index   int
	At      time.Time
	Kind    string
	Props   map[string]any
	Unknown bool // true when a property holds an enum member that needs the Prefer header
}

// ID returns the record's id.
func (r *Record) ID() string { return r.Props["id"].(string) }

// Str returns a string property by OData path ("location/city"), "" when absent or null.
func (r *Record) Str(path string) string {
	v, _ := r.Get(path).(string)
	return v
}

// Get returns a property by OData path, nil when absent.
func (r *Record) Get(path string) any {
	var cur any = r.Props
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// ErrorCode returns status/errorCode (0 is success; math.MinInt when absent).
func (r *Record) ErrorCode() int {
	switch v := r.Get("status/errorCode").(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return math.MinInt
}

var templates map[string]map[string]any

func init() {
	if err := json.Unmarshal(templatesJSON, &templates); err != nil {
		panic(fmt.Sprintf("graphfake: bad templates.json: %v", err))
	}
}

type user struct{ upn, name, id, userType string }
type app struct{ id, name string }
type place struct{ city, state, country string }
type failure struct {
	code   int
	reason string
}

var (
	users = func() []user {
		first := []string{"adele", "alex", "megan", "nestor", "lynne", "diego", "isaiah", "joni", "lee", "miriam", "patti", "pradeep", "grady", "johanna", "lidia", "henrietta"}
		var out []user
		for i, f := range first {
			u := user{
				upn:      f + ".vance@contoso.example",
				name:     strings.ToUpper(f[:1]) + f[1:] + " Vance",
				id:       fmt.Sprintf("a0a0a0a0-%04d-4000-8000-%012d", i+1, i+1),
				userType: "member",
			}
			if i%7 == 6 {
				u.upn = f + "@fabrikam.example"
				u.userType = "guest"
			}
			out = append(out, u)
		}
		return out
	}()
	userApps = []app{
		{"c0c0c0c0-0001-4000-8000-0000000000a1", "Microsoft Office"},
		{"c0c0c0c0-0003-4000-8000-0000000000a3", "Azure Portal"},
		{"c0c0c0c0-0004-4000-8000-0000000000a4", "Microsoft Teams"},
		{"c0c0c0c0-0005-4000-8000-0000000000a5", "Azure CLI"},
		{"c0c0c0c0-0006-4000-8000-0000000000a6", "Outlook Mobile"},
	}
	servicePrincipals = []app{
		{"c0c0c0c0-0101-4000-8000-000000000101", "contoso-backup-job"},
		{"c0c0c0c0-0102-4000-8000-000000000102", "contoso-ci-deployer"},
		{"c0c0c0c0-0103-4000-8000-000000000103", "fabrikam-partner-sync"},
	}
	managedIdentities = []app{
		{"c0c0c0c0-0201-4000-8000-000000000201", "vm-contoso-web-01"},
		{"c0c0c0c0-0202-4000-8000-000000000202", "func-contoso-ingest"},
	}
	resources = []app{
		{"c0c0c0c0-0002-4000-8000-0000000000b2", "Office 365 Exchange Online"},
		{"c0c0c0c0-0007-4000-8000-0000000000b7", "Microsoft Graph"},
		{"c0c0c0c0-0008-4000-8000-0000000000b8", "Azure Key Vault"},
		{"c0c0c0c0-0009-4000-8000-0000000000b9", "Windows Azure Service Management API"},
	}
	places = []place{
		{"Seattle", "Washington", "US"}, {"Redmond", "Washington", "US"}, {"New York", "New York", "US"},
		{"London", "England", "GB"}, {"Dublin", "Dublin", "IE"}, {"Berlin", "Berlin", "DE"},
		{"Sydney", "New South Wales", "AU"}, {"Lagos", "Lagos", "NG"}, {"Moscow", "Moscow", "RU"},
	}
	ips = []string{"203.0.113.10", "203.0.113.77", "198.51.100.23", "192.0.2.44", "2001:db8::1f", "203.0.113.XXX", "198.51.100.200"}
	// operatingSystem, browser
	devices      = [][2]string{{"Windows10", "Edge 139.0.0"}, {"MacOs", "Safari 18.1"}, {"Ios", "Mobile Safari"}, {"Android", "Chrome Mobile 139"}, {"Linux", "Firefox 141.0"}}
	clientApps   = []string{"Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync", "IMAP"}
	userFailures = []failure{
		{50126, "Error validating credentials due to invalid username or password."},
		{50053, "Account is locked because user tried to sign in too many times with an incorrect user ID or password."},
		{50074, "Strong Authentication is required."},
		{50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password."},
		{70043, "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access."},
		{53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
	}
	appFailures = []failure{
		{7000215, "Invalid client secret is provided."},
		{700027, "Client assertion failed signature validation."},
	}
	// crossTenantAccessType for user sign-ins; the index picks partner tenants for the non-"none" ones.
	accessTypes = []string{"none", "none", "none", "none", "none", "none", "b2bCollaboration", "b2bDirectConnect", "microsoftSupport", "serviceProvider", "passthrough"}
	riskLevels  = []string{"none", "none", "none", "none", "none", "none", "low", "medium", "high"}
)

// PartnerTenantID is the home tenant of guests and cross-tenant sign-ins.
const PartnerTenantID = "22222222-2222-4222-8222-222222222222"

// hash returns a deterministic pseudo-random number for (seed, index, salt).
func hash(seed int64, i int, salt string) int {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%s", seed, i, salt)
	return int(h.Sum64() >> 1)
}

func pick[T any](seed int64, i int, salt string, from []T) T {
	return from[hash(seed, i, salt)%len(from)]
}

// kindOf spreads the kinds as a busy tenant has them: mostly non-interactive.
func kindOf(seed int64, i int) string {
	switch n := hash(seed, i, "kind") % 100; {
	case n < 30:
		return Interactive
	case n < 75:
		return NonInteractive
	case n < 90:
		return ServicePrincipal
	default:
		return ManagedIdentity
	}
}

// generate builds record i of a log whose tenant is tenantID.
func generate(seed int64, i int, at time.Time, tenantID string) *Record {
	kind := kindOf(seed, i)
	var tmpl map[string]any
	switch kind {
	case Interactive:
		tmpl = templates["interactive-success-mfa-ca"]
	case NonInteractive:
		tmpl = templates["noninteractive-failure-50173"]
	case ServicePrincipal:
		tmpl = templates["service-principal-certificate"]
	default:
		tmpl = templates["managed-identity-extra"]
	}
	p := make(map[string]any, len(tmpl))
	for k, v := range tmpl {
		p[k] = v
	}
	r := &Record{Index: i, At: at, Kind: kind, Props: p}

	id := fmt.Sprintf("%08x-%04x-4000-8000-%012x", uint32(seed), i>>16&0xffff, i)
	p["id"] = id
	p["originalRequestId"] = id
	p["createdDateTime"] = at.Format(time.RFC3339)
	p["correlationId"] = fmt.Sprintf("c0aa0000-%04x-4000-8000-%012x", i>>16&0xffff, hash(seed, i, "corr")%(1<<40))
	p["uniqueTokenIdentifier"] = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("UTI-%d-%d", seed, i)))
	p["sessionId"] = fmt.Sprintf("5e550000-0000-4000-8000-%012x", hash(seed, i, "sess")%(1<<40))
	p["signInEventTypes"] = []any{kind}
	p["resourceTenantId"] = tenantID
	p["homeTenantId"] = tenantID
	p["crossTenantAccessType"] = "none"

	res := pick(seed, i, "resource", resources)
	p["resourceId"], p["resourceDisplayName"] = res.id, res.name
	ip := pick(seed, i, "ip", ips)
	p["ipAddress"] = ip
	pl := pick(seed, i, "place", places)
	p["location"] = map[string]any{
		"city": pl.city, "state": pl.state, "countryOrRegion": pl.country,
		"geoCoordinates": map[string]any{"altitude": nil, "latitude": 47.6, "longitude": -122.3},
	}
	p["riskLevelAggregated"] = "none"
	p["riskLevelDuringSignIn"] = "none"
	p["riskState"] = "none"
	p["riskDetail"] = "none"
	p["riskEventTypes_v2"] = []any{}

	status := map[string]any{"errorCode": 0, "failureReason": nil, "additionalDetails": nil}
	failed := hash(seed, i, "fail")%100 < 18

	switch kind {
	case Interactive, NonInteractive:
		u := pick(seed, i, "user", users)
		a := pick(seed, i, "app", userApps)
		p["userPrincipalName"], p["userDisplayName"], p["userId"], p["userType"] = u.upn, u.name, u.id, u.userType
		p["signInIdentifier"] = u.upn
		p["appId"], p["appDisplayName"] = a.id, a.name
		p["isInteractive"] = kind == Interactive
		p["clientAppUsed"] = pick(seed, i, "clientApp", clientApps)
		dev := pick(seed, i, "device", devices)
		p["deviceDetail"] = map[string]any{
			"deviceId": "", "displayName": "", "operatingSystem": dev[0], "browser": dev[1], "browserId": "",
			"isCompliant": hash(seed, i, "compliant")%2 == 0, "isManaged": hash(seed, i, "managed")%2 == 0, "trustType": "",
		}
		if failed {
			f := pick(seed, i, "failure", userFailures)
			status["errorCode"], status["failureReason"] = f.code, f.reason
		} else {
			status["failureReason"] = "Other."
		}
		if hash(seed, i, "mfa")%2 == 0 {
			p["authenticationRequirement"] = "multiFactorAuthentication"
		} else {
			p["authenticationRequirement"] = "singleFactorAuthentication"
		}
		if u.userType == "guest" {
			p["homeTenantId"] = PartnerTenantID
			p["crossTenantAccessType"] = "b2bCollaboration"
		} else if t := pick(seed, i, "access", accessTypes); t != "none" {
			p["homeTenantId"] = PartnerTenantID
			p["crossTenantAccessType"] = t
			r.Unknown = r.Unknown || t == "passthrough"
		}
		rl := pick(seed, i, "risk", riskLevels)
		p["riskLevelDuringSignIn"] = rl
		p["riskLevelAggregated"] = rl
		if rl != "none" {
			p["riskState"] = "atRisk"
			p["riskDetail"] = "none"
			p["riskEventTypes_v2"] = []any{pick(seed, i, "riskEvent", []string{"unfamiliarFeatures", "anonymizedIPAddress", "impossibleTravel"})}
		}
		switch hash(seed, i, "issuer") % 20 {
		case 0:
			p["tokenIssuerType"] = "ADFederationServices"
		case 1:
			p["tokenIssuerType"] = "AzureADBackupAuth"
			r.Unknown = true
		default:
			p["tokenIssuerType"] = "AzureAD"
		}
	default:
		a := pick(seed, i, "sp", servicePrincipals)
		if kind == ManagedIdentity {
			a = pick(seed, i, "mi", managedIdentities)
		}
		p["appId"], p["appDisplayName"] = a.id, a.name
		p["servicePrincipalId"] = "5b5b5b5b" + a.id[8:]
		p["servicePrincipalName"] = a.name
		p["ipAddress"] = pick(seed, i, "spip", []string{"198.51.100.7", "198.51.100.8", "2001:db8::7"})
		if failed && kind == ServicePrincipal {
			f := pick(seed, i, "appFailure", appFailures)
			status["errorCode"], status["failureReason"] = f.code, f.reason
		}
		p["tokenIssuerType"] = "AzureAD"
	}
	p["status"] = status

	switch n := hash(seed, i, "ca") % 10; {
	case status["errorCode"] == 53003:
		p["conditionalAccessStatus"] = "failure"
	case kind == ManagedIdentity || n < 3:
		p["conditionalAccessStatus"] = "notApplied"
	default:
		p["conditionalAccessStatus"] = "success"
	}
	return r
}

// enumsNeedingPrefer maps a property to the enum members Graph sends as
// unknownFutureValue unless the request asks for them.
var enumsNeedingPrefer = map[string]map[string]bool{
	"crossTenantAccessType": {"passthrough": true},
	"tokenIssuerType":       {"AzureADBackupAuth": true, "ADFederationServicesMFAAdapter": true, "NPSExtension": true},
}

// v1Properties lists what v1.0 returns; the other beta properties it does not.
var v1Properties = map[string]bool{
	"id": true, "appDisplayName": true, "appId": true, "appliedConditionalAccessPolicies": true, "authenticationAppDeviceDetails": true,
	"clientAppUsed": true, "conditionalAccessStatus": true, "correlationId": true, "createdDateTime": true, "deviceDetail": true,
	"homeTenantId": true, "ipAddress": true, "isInteractive": true, "location": true, "resourceDisplayName": true,
	"resourceId": true, "resourceTenantId": true, "riskDetail": true, "riskEventTypes": true, "riskEventTypes_v2": true,
	"riskLevelAggregated": true, "riskLevelDuringSignIn": true, "riskState": true, "servicePrincipalId": true,
	"servicePrincipalName": true, "status": true, "userAgent": true, "userDisplayName": true, "userId": true, "userPrincipalName": true,
}

// wire returns the properties as Graph would send them for a request.
func (r *Record) wire(beta, preferUnknown, withCA bool) map[string]any {
	if beta && (preferUnknown || !r.Unknown) && withCA {
		return r.Props
	}
	out := make(map[string]any, len(r.Props))
	for k, v := range r.Props {
		if !beta && !v1Properties[k] {
			continue
		}
		if members := enumsNeedingPrefer[k]; members != nil && !preferUnknown {
			if s, _ := v.(string); members[s] {
				v = "unknownFutureValue"
			}
		}
		if k == "appliedConditionalAccessPolicies" && !withCA {
			continue
		}
		out[k] = v
	}
	return out
}
