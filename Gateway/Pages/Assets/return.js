// Sends the consumer back to the merchant with the platform's signed answer.
"use strict";
document.getElementById("return")?.submit();
