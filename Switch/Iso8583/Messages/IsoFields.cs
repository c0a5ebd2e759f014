namespace Mesh.Iso8583.Messages;

/// <summary>Data element numbers Mesh uses, by their ISO 8583:1987 names.</summary>
public static class IsoFields
{
    public const int Pan = 2;
    public const int ProcessingCode = 3;
    public const int AmountTransaction = 4;
    public const int TransmissionDateTime = 7;
    public const int Stan = 11;
    public const int LocalTime = 12;
    public const int LocalDate = 13;
    public const int ExpiryDate = 14;
    public const int SettlementDate = 15;
    public const int MerchantType = 18;
    public const int PosEntryMode = 22;
    public const int PosConditionCode = 25;
    public const int AcquirerId = 32;
    public const int ForwardingId = 33;
    public const int Rrn = 37;
    public const int AuthCode = 38;
    public const int ResponseCode = 39;
    public const int TerminalId = 41;
    public const int MerchantId = 42;
    public const int AdditionalData = 48;
    public const int Currency = 49;
    public const int PinBlock = 52;
    public const int SecurityControl = 53;
    public const int NetworkManagementCode = 70;
    public const int OriginalDataElements = 90;
    public const int ReceivingInstitution = 100;

    /// <summary>Private use: W3C trace context (<c>traceparent</c>, then a space and <c>tracestate</c> if any).</summary>
    public const int TraceContext = 124;
    public const int Mac = 128;
}

/// <summary>Field 70 codes of network-management messages.</summary>
public static class NetworkManagementCodes
{
    public const string SignOn = "001";
    public const string SignOff = "002";
    public const string KeyChange = "101";
    public const string Echo = "301";
}

/// <summary>Field 39 response codes Mesh gives or acts on.</summary>
public static class ResponseCodes
{
    public const string Approved = "00";
    public const string InvalidTransaction = "12";
    public const string FormatError = "30";
    public const string IssuerUnavailable = "91";
    public const string DuplicateTransmission = "94";
    public const string SystemMalfunction = "96";

    /// <summary>Additional customer authentication required: the issuer sent the cardholder a one-time code; send the purchase again with it.</summary>
    public const string AuthenticationRequired = "1A";

    /// <summary>Security violation: the one-time code is wrong, and tries are left.</summary>
    public const string WrongOneTimeCode = "63";

    /// <summary>Security violation on a key change: the receiver's Hsm refused the key (its check value, its key block).</summary>
    public const string KeyRefused = "63";

    /// <summary>Allowable number of tries exceeded (a PIN, or the one-time codes of a purchase).</summary>
    public const string TriesExceeded = "75";

    /// <summary>The CVV2 is wrong (Visa's code, which UnionPay's credit cards follow).</summary>
    public const string Cvv2Failure = "N7";
}
